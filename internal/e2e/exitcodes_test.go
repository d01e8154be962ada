package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// hostileIdP serves a discovery document pointing at itself (naming
// issuer, or itself when issuer is empty) and answers the token endpoint
// with token. It is for answers no real IdP gives on purpose; token work
// that succeeds is tested against real IdPs.
func hostileIdP(t testing.TB, issuer string, token http.HandlerFunc) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if issuer == "" {
		issuer = srv.URL
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                issuer,
			"token_endpoint":                        srv.URL + "/token",
			"jwks_uri":                              srv.URL + "/jwks",
			"grant_types_supported":                 []string{"client_credentials"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		})
	})
	mux.HandleFunc("POST /token", token)
	return srv
}

// hostileEnv is a confidential client of a hostile IdP, with nothing cached.
func hostileEnv(t testing.TB, srv *httptest.Server) *Env {
	t.Helper()
	e := newEnv(t).Set("IDPCTL_STORE", "memory").Set("IDPCTL_ISSUER", srv.URL).Set("IDPCTL_CLIENT_ID", "ci")
	e.Set("IDPCTL_CLIENT_SECRET_FILE", e.WriteFile(t, "client-secret", "a-client-secret-for-a-hostile-idp", true))
	return e
}

// retryNotice is the line announcing a retry's wait (httpx.Client.notifyRetry).
var retryNotice = regexp.MustCompile(`^IdP \S+ (answered \d{3}|did not answer); retrying in \S+ \(\d+/\d+\)$`)

// messageLines is stderr without the lines that are not the error: warnings
// and retry notices.
func messageLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if l != "" && !strings.HasPrefix(l, "warning:") && !retryNotice.MatchString(l) {
			out = append(out, l)
		}
	}
	return out
}

func TestExitCodesTellScriptsWhatWentWrong(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})

	cases := []struct {
		name string
		code int
		// say are substrings the one-line message must contain.
		say  []string
		args []string
		env  func(t *testing.T) *Env
	}{
		{
			name: "a wrong client secret is refused by the IdP", code: 4, say: []string{"invalid_client"},
			args: []string{"token", "get"},
			env: func(t *testing.T) *Env {
				e := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "memory")
				return e.Set("IDPCTL_CLIENT_SECRET_FILE", e.WriteFile(t, "wrong-secret", "not-the-secret-of-cc-basic", true))
			},
		},
		{
			// A wrong path must fail at once, not read without end.
			name: "a client secret file that is /dev/zero is a usage error", code: 2, say: []string{"client secret file /dev/zero is larger than"},
			args: []string{"token", "get"},
			env: func(t *testing.T) *Env {
				return peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "memory").Set("IDPCTL_CLIENT_SECRET_FILE", "/dev/zero")
			},
		},
		{
			name: "a negative --timeout is a usage error, not the default", code: 2, say: []string{"must not be negative"},
			args: []string{"token", "get", "--timeout", "-1s"},
			env: func(t *testing.T) *Env {
				return peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "memory")
			},
		},
		{
			name: "authorization details from /dev/zero are a usage error", code: 2, say: []string{"authorization details file /dev/zero is larger than"},
			args: []string{"token", "get", "--authorization-details", "@/dev/zero"},
			env: func(t *testing.T) *Env {
				return peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "memory")
			},
		},
		{
			name: "an issuer nobody listens on is a network error", code: 5, say: []string{"connection refused"},
			args: []string{"token", "get"},
			env: func(t *testing.T) *Env {
				e := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "memory")
				return e.Set("IDPCTL_ISSUER", "http://"+closedPort(t))
			},
		},
		{
			name: "discovery naming another issuer is refused", code: 4, say: []string{"issuer", "OIDC Discovery §4.3"},
			args: []string{"token", "get"},
			env: func(t *testing.T) *Env {
				srv := hostileIdP(t, "http://127.0.0.1:1/someone-else", func(w http.ResponseWriter, r *http.Request) {
					t.Error("a token request reached an IdP whose issuer does not match")
				})
				return hostileEnv(t, srv)
			},
		},
		{
			name: "an HTML error page at the token endpoint is a network error", code: 5, say: []string{"HTML", "502 Bad Gateway"},
			args: []string{"token", "get"},
			env: func(t *testing.T) *Env {
				return hostileEnv(t, hostileIdP(t, "", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(http.StatusBadGateway)
					_, _ = w.Write([]byte("<html>\n<head><title>502 Bad Gateway</title></head>\n<body>\n<center><h1>502 Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n"))
				}))
			},
		},
		{
			name: "a token response over 4 MiB is cut off", code: 5, say: []string{"larger than", "MiB"},
			args: []string{"token", "get"},
			env: func(t *testing.T) *Env {
				return hostileEnv(t, hostileIdP(t, "", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"token_type":"Bearer","expires_in":60,"access_token":"`))
					_, _ = w.Write([]byte(strings.Repeat("a", 5<<20)))
					_, _ = w.Write([]byte(`"}`))
				}))
			},
		},
		{
			name: "an unknown flag is a usage error", code: 2, say: []string{"unknown flag", "--no-such-flag"},
			args: []string{"token", "get", "--no-such-flag"},
			env: func(t *testing.T) *Env {
				return peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "memory")
			},
		},
		{
			name: "an interactive flow without a terminal and nothing cached needs a login", code: 3, say: []string{"idpctl login"},
			args: []string{"token", "get"},
			env: func(t *testing.T) *Env {
				return peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_STORE", "memory").Set("IDPCTL_CLIENT_AUTH_METHOD", "none")
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := c.env(t)
			r := wantExit(t, e, c.code, "", c.args...)
			lines := messageLines(r.Stderr)
			if len(lines) != 1 {
				t.Errorf("want a one-line message, got %d lines:\n%s", len(lines), r.Stderr)
			}
			for _, s := range c.say {
				if !strings.Contains(r.Stderr, s) {
					t.Errorf("the message should contain %q:\n%s", s, r.Stderr)
				}
			}
			for _, s := range e.Secrets() {
				if strings.Contains(r.Stderr, s) {
					t.Error("the message quotes a secret")
				}
			}
		})
	}
}

func TestInvalidGrantOnRefreshExitsWithCode3(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{RefreshTokenTTL: 2 * time.Second})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none").Set("IDPCTL_SCOPES", loginScopes)
	login(t, e, p.FollowAuthorization, "--scope", loginScopes)
	time.Sleep(3 * time.Second)

	before := tokenCount(t, p, "refresh_token")
	r := wantExit(t, e, 3, "", "token", "refresh")
	if !strings.Contains(r.Stderr, "invalid_grant") || !strings.Contains(r.Stderr, "log in again") {
		t.Errorf("the message should carry invalid_grant and say to log in again:\n%s", r.Stderr)
	}
	if n := tokenCount(t, p, "refresh_token") - before; n != 1 {
		t.Errorf("the peer counted %d refresh_token requests, want 1: a refused refresh is never retried", n)
	}
}
