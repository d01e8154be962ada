package fakekit

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// spyTB records the failures a mux reports instead of failing this test.
type spyTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (s *spyTB) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors = append(s.errors, fmt.Sprintf(format, args...))
}

func (s *spyTB) failures() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errors...)
}

func revokeRoute() Route {
	return Route{
		Pattern:       "POST /api/users/{id}/revoke",
		Doc:           "Example API reference, Revoke a user's tokens",
		Query:         map[string]string{"mode": "all"},
		OptionalQuery: []string{"dry"},
		Header:        map[string]string{"Authorization": "Bearer *"},
		Body: &Schema{Type: "object", Required: []string{"client_id"}, Properties: map[string]*Schema{
			"client_id": {Type: "string"},
			"reason":    {Type: "string", Enum: []string{"left", "stolen"}},
			"count":     {Type: "integer"},
		}},
		Answer: func(r *http.Request, body any) Answer {
			return Answer{Status: http.StatusAccepted, JSON: map[string]any{"user": r.PathValue("id"), "client": body.(map[string]any)["client_id"]}}
		},
	}
}

func TestAMuxAnswersARequestThatKeepsTheContract(t *testing.T) {
	spy := &spyTB{TB: t}
	m := NewMux(spy, revokeRoute())
	srv := Serve(m)
	defer srv.Close()
	resp, body := send(t, http.MethodPost, srv.URL+"/api/users/u1/revoke?mode=all&dry=1", `{"client_id":"c","reason":"left","count":2}`, "Bearer x")
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(body, `"user":"u1"`) || !strings.Contains(body, `"client":"c"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if f := spy.failures(); len(f) != 0 || len(m.Violations()) != 0 || len(m.Requests()) != 1 {
		t.Fatalf("failures %v, violations %v", f, m.Violations())
	}
}

func TestAMuxFailsTheTestOnABrokenContract(t *testing.T) {
	tests := []struct {
		name, method, path, body, auth, want string
	}{
		{"no route", http.MethodGet, "/api/nothing", "", "Bearer x", "GET /api/nothing matches no route"},
		{"wrong method", http.MethodDelete, "/api/users/u1/revoke?mode=all", "", "Bearer x", "DELETE /api/users/u1/revoke matches no route"},
		{"missing query", http.MethodPost, "/api/users/u1/revoke", `{"client_id":"c"}`, "Bearer x", `query parameter "mode" is missing`},
		{"wrong query value", http.MethodPost, "/api/users/u1/revoke?mode=one", `{"client_id":"c"}`, "Bearer x", `"mode" is "one", want "all"`},
		{"extra query", http.MethodPost, "/api/users/u1/revoke?mode=all&x=1", `{"client_id":"c"}`, "Bearer x", `"x" is not in the contract`},
		{"wrong header", http.MethodPost, "/api/users/u1/revoke?mode=all", `{"client_id":"c"}`, "SSWS x", "header Authorization does not have the value"},
		{"missing member", http.MethodPost, "/api/users/u1/revoke?mode=all", `{"reason":"left"}`, "Bearer x", `lacks the required member "client_id"`},
		{"extra member", http.MethodPost, "/api/users/u1/revoke?mode=all", `{"client_id":"c","x":1}`, "Bearer x", `member "x" the contract does not name`},
		{"enum", http.MethodPost, "/api/users/u1/revoke?mode=all", `{"client_id":"c","reason":"bored"}`, "Bearer x", `body.reason is "bored"`},
		{"integer", http.MethodPost, "/api/users/u1/revoke?mode=all", `{"client_id":"c","count":1.5}`, "Bearer x", "body.count is the number 1.5, want an integer"},
		{"no body", http.MethodPost, "/api/users/u1/revoke?mode=all", "", "Bearer x", "has no body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spy := &spyTB{TB: t}
			m := NewMux(spy, revokeRoute())
			srv := Serve(m)
			defer srv.Close()
			resp, body := send(t, tt.method, srv.URL+tt.path, tt.body, tt.auth)
			f := spy.failures()
			if resp.StatusCode != http.StatusTeapot || len(f) != 1 || !strings.Contains(f[0], tt.want) || len(m.Violations()) != 1 {
				t.Fatalf("status %d body %s failures %q", resp.StatusCode, body, f)
			}
			if tt.name != "no route" && tt.name != "wrong method" && !strings.Contains(f[0], "Example API reference") {
				t.Fatalf("the failure does not cite the document: %s", f[0])
			}
		})
	}
}

func TestAMuxServesScheduledFaultsFirst(t *testing.T) {
	spy := &spyTB{TB: t}
	m := NewMux(spy, revokeRoute())
	m.Faults = faults(timeNow())
	m.Faults.Inject(Injection{Fault: RateLimited})
	srv := Serve(m)
	defer srv.Close()
	resp, _ := send(t, http.MethodPost, srv.URL+"/api/users/u1/revoke?mode=all", `{"client_id":"c"}`, "Bearer x")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "7" || len(spy.failures()) != 0 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func send(t *testing.T, method, url, body, auth string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func timeNow() time.Time { return time.Now() }

func TestAFormRouteChecksTheFormAndItsMediaType(t *testing.T) {
	route := Route{
		Pattern:     "POST /token",
		ContentType: "application/x-www-form-urlencoded",
		Body: &Schema{Type: "object", Required: []string{"grant_type"}, Properties: map[string]*Schema{
			"grant_type": {Type: "string", Enum: []string{"client_credentials"}},
		}},
		Answer: func(_ *http.Request, body any) Answer {
			return Answer{JSON: map[string]any{"got": body.(map[string]any)["grant_type"]}}
		},
	}
	post := func(ct, body string) (*http.Response, string, []string) {
		spy := &spyTB{TB: t}
		srv := Serve(NewMux(spy, route))
		defer srv.Close()
		resp, err := http.Post(srv.URL+"/token", ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b), spy.failures()
	}
	if resp, body, f := post("application/x-www-form-urlencoded", "grant_type=client_credentials"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"got":"client_credentials"`) || len(f) != 0 {
		t.Fatalf("a good form: %d %s %v", resp.StatusCode, body, f)
	}
	for _, c := range []struct{ ct, body, want string }{
		{"application/json", `{"grant_type":"client_credentials"}`, "want application/x-www-form-urlencoded"},
		{"application/x-www-form-urlencoded", "grant_type=password", `body.grant_type is "password"`},
		{"application/x-www-form-urlencoded", "grant_type=client_credentials&grant_type=x", "repeated"},
	} {
		if resp, _, f := post(c.ct, c.body); resp.StatusCode != http.StatusTeapot || len(f) != 1 || !strings.Contains(f[0], c.want) {
			t.Errorf("%s %s: %d %v", c.ct, c.body, resp.StatusCode, f)
		}
	}
}
