package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func adminCall(t *testing.T, s *Server, method, path, body, secret string) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.AdminURL()+path, rd)
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, resp.Header
}

func TestTheAdminAPIRefusesWhatItDoesNotTake(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	keys := s.keyInfos()
	tests := []struct {
		name, method, path, body, secret string
		status                           int
		code                             string
	}{
		{"no credential", "GET", "/keys", "", "", 401, "invalid_token"},
		{"a client's secret", "GET", "/keys", "", s.clients[0].Secret, 401, "invalid_token"},
		{"an unknown operation", "PATCH", "/keys", "", s.AdminSecret(), 404, "not_found"},
		{"an unknown query parameter", "DELETE", "/users/demo-user/tokens?client=x", "", s.AdminSecret(), 400, "invalid_request"},
		{"an unknown client", "DELETE", "/users/demo-user/tokens?client_id=x", "", s.AdminSecret(), 404, "client_not_found"},
		{"an unknown user", "GET", "/users/nobody", "", s.AdminSecret(), 404, "user_not_found"},
		{"half the lifetimes", "PUT", "/clients/demo-cli/lifetimes", `{"access_token_lifetime":60}`, s.AdminSecret(), 400, "invalid_request"},
		{"an unknown member", "PUT", "/clients/demo-cli/lifetimes", `{"access_token_lifetime":60,"refresh_token_lifetime":60,"idle":1}`, s.AdminSecret(), 400, "invalid_request"},
		{"a lifetime out of range", "PUT", "/clients/demo-cli/lifetimes", `{"access_token_lifetime":0,"refresh_token_lifetime":60}`, s.AdminSecret(), 400, "invalid_request"},
		{"an unknown key use", "POST", "/keys", `{"use":"both"}`, s.AdminSecret(), 400, "invalid_request"},
		{"retiring the active key", "DELETE", "/keys/" + keys[0].KID, "", s.AdminSecret(), 409, "key_active"},
		{"retiring an unknown key", "DELETE", "/keys/nope", "", s.AdminSecret(), 404, "key_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, h := adminCall(t, s, tt.method, tt.path, tt.body, tt.secret)
			if status != tt.status || body["error"] != tt.code {
				t.Fatalf("%d %v", status, body)
			}
			if h.Get("Cache-Control") != "no-store" {
				t.Fatal("an admin answer may be cached")
			}
		})
	}
	if lt := s.clientLifetimes(CLIClientID); lt.AccessTokenLifetime != int(DefaultAccessTokenLifetime.Seconds()) {
		t.Fatalf("a refused change was applied: %+v", lt)
	}
}

func TestTheAdminAPISpendsABudgetAndSaysSo(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{AdminRateLimit: 2})
	for i, want := range []int{200, 200, 429} {
		status, _, h := adminCall(t, s, "GET", "/keys", "", s.AdminSecret())
		if status != want || h.Get("RateLimit-Limit") != "2" || h.Get("RateLimit-Reset") == "" {
			t.Fatalf("request %d: %d %v", i, status, h)
		}
		if want == 429 && (h.Get("Retry-After") == "" || h.Get("RateLimit-Remaining") != "0") {
			t.Fatalf("the 429 does not say when: %v", h)
		}
	}
}
