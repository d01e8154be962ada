package auth0fake

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
	s := New(quiet{t}, Options{BearerToken: "tok"})
	defer s.Close()
	status, _ := providertest.Do(t, "GET", s.URL+"/api/v2/keys/signing", "SSWS tok", "")
	if status != http.StatusTeapot || len(s.Violations()) != 1 {
		t.Fatalf("status %d violations %q", status, s.Violations())
	}
	status, body := providertest.Do(t, "GET", s.URL+"/api/v2/keys/signing", "Bearer nope", "")
	if status != 401 || !strings.Contains(body, "Invalid token") {
		t.Fatalf("status %d body %s", status, body)
	}
}

func TestAPartialRefreshTokenObjectIsRefusedAndChangesNothing(t *testing.T) {
	s := New(t, Options{BearerToken: "tok"})
	defer s.Close()
	s.AddClient(Application("c1", "App", RotatingRefreshTokens()))
	status, body := providertest.Do(t, "PATCH", s.URL+"/api/v2/clients/c1", "Bearer tok", `{"refresh_token":{"token_lifetime":60}}`)
	if status != 400 || !strings.Contains(body, "rotation_type") {
		t.Fatalf("status %d body %s", status, body)
	}
	if rt := s.StoredClient("c1")["refresh_token"].(map[string]any); rt["policies"] == nil {
		t.Fatal("a refused PATCH changed the application")
	}
	status, _ = providertest.Do(t, "PATCH", s.URL+"/api/v2/clients/c1", "Bearer tok", `{"refresh_token":{"rotation_type":"rotating","expiration_type":"expiring","token_lifetime":60}}`)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	if rt := s.StoredClient("c1")["refresh_token"].(map[string]any); rt["policies"] != nil || rt["leeway"] != nil {
		t.Fatalf("members not sent survived: %v", rt)
	}
}

func TestRevokingByAnUndocumentedCombinationIsRefused(t *testing.T) {
	s := New(t, Options{BearerToken: "tok"})
	defer s.Close()
	status, body := providertest.Do(t, "POST", s.URL+"/api/v2/refresh-tokens/revoke", "Bearer tok", `{"ids":["x"],"user_id":"auth0|a"}`)
	if status != 400 || !strings.Contains(body, "invalid_body") {
		t.Fatalf("status %d body %s", status, body)
	}
}
