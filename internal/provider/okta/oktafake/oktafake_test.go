package oktafake

import (
	"net/http"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/providertest"
)

// quiet takes the contract failures these tests provoke on purpose,
// leaving them to Violations.
type quiet struct{ testing.TB }

func (quiet) Errorf(string, ...any) {}

func TestTheWrongAuthorizationSchemeIsAViolation(t *testing.T) {
	s := New(quiet{t}, Options{})
	defer s.Close()
	s.AddUser(User{ID: "00u1", Login: "a@example.com"})
	status, _ := providertest.Do(t, "GET", s.URL+"/api/v1/users/00u1", "Bearer "+s.Token(), "")
	if status != http.StatusTeapot || len(s.Violations()) != 1 {
		t.Fatalf("status %d violations %q", status, s.Violations())
	}
	status, body := providertest.Do(t, "GET", s.URL+"/api/v1/users/00u1", "SSWS wrong", "")
	if status != 401 || !strings.Contains(body, "E0000011") {
		t.Fatalf("status %d body %s", status, body)
	}
}

func TestAPartialPutIsRefusedAndChangesNothing(t *testing.T) {
	s := New(t, Options{})
	defer s.Close()
	s.AddApp(OIDCApp("0oa1", "0oa1", "App"))
	s.AddAuthorizationServer("default")
	s.AddPolicy("default", Policy("00p1", "P", 1, "0oa1"))
	s.AddRule("default", "00p1", Rule("0pr1", "R", 1, 60, 0, 10080))
	auth := "SSWS " + s.Token()
	status, body := providertest.Do(t, "PUT", s.URL+"/api/v1/apps/0oa1", auth, `{"settings":{"oauthClient":{"refresh_token":{"rotation_type":"ROTATE"}}}}`)
	if status != 400 || !strings.Contains(body, "E0000001") || s.App("0oa1")["label"] != "App" {
		t.Fatalf("app PUT: status %d body %s", status, body)
	}
	status, body = providertest.Do(t, "PUT", s.URL+"/api/v1/authorizationServers/default/policies/00p1/rules/0pr1", auth, `{"actions":{"token":{"accessTokenLifetimeMinutes":30}}}`)
	if status != 400 || s.Rule("default", "00p1", "0pr1")["conditions"] == nil {
		t.Fatalf("rule PUT: status %d body %s", status, body)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Fatalf("violations %q", v)
	}
}

func TestAnUnexpectedQueryParameterIsAViolation(t *testing.T) {
	s := New(quiet{t}, Options{})
	defer s.Close()
	s.AddUser(User{ID: "00u1"})
	status, _ := providertest.Do(t, "DELETE", s.URL+"/api/v1/users/00u1/sessions?oauthTokens=true&everything=true", "SSWS "+s.Token(), "")
	if status != http.StatusTeapot || len(s.Violations()) != 1 {
		t.Fatalf("status %d violations %q", status, s.Violations())
	}
}
