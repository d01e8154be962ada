package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
	"github.com/idpctl/idpctl/internal/sandbox"
)

// authURLLine is the authorization URL that `login --no-browser` prints on
// a line of its own.
var authURLLine = regexp.MustCompile(`(?m)^(https?://\S+)\s*$`)

// loginScopes is what the CLI logins ask for; the profile asks for the
// same (IDPCTL_SCOPES), so a later `token get` looks for the token the
// login cached.
const loginScopes = "openid,offline_access"

// login runs `idpctl login --no-browser` in the background, hands the
// authorization URL it prints to follow (the user's browser), and waits for
// the login to succeed. It returns the authorization URL.
func login(t testing.TB, e *Env, follow func(context.Context, string) error, args ...string) *url.URL {
	t.Helper()
	p := start(t, e, "", append([]string{"login", "--no-browser"}, args...)...)
	m := p.waitStderr(authURLLine, 30*time.Second)
	authURL, err := url.Parse(m[1])
	if err != nil {
		t.Fatalf("login printed an unparsable authorization URL: %v", err)
	}
	browser := browse(follow, m[1])
	r := p.waitResult(runTimeout)
	if err := <-browser; err != nil {
		t.Fatalf("the browser could not complete the login: %v\n%s", err, r)
	}
	if r.Code != 0 || !strings.Contains(r.Stderr, "Logged in") {
		t.Fatalf("login did not succeed\n%s", r)
	}
	if r.Stdout != "" {
		t.Errorf("login printed on stdout: %q", r.Stdout)
	}
	return authURL
}

// checkAuthorizationRequest checks the protocol rules of the request the
// CLI sent the browser to (RFC 9700 §2.1.1, RFC 8252 §7.3, OIDC Core §3.1.2.1).
func checkAuthorizationRequest(t testing.TB, u *url.URL, clientID string, port int) {
	t.Helper()
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != clientID {
		t.Errorf("response_type %q client_id %q, want code and %s", q.Get("response_type"), q.Get("client_id"), clientID)
	}
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("PKCE: method %q, challenge of %d characters; want S256 and 43", q.Get("code_challenge_method"), len(q.Get("code_challenge")))
	}
	if q.Get("state") == "" || q.Get("nonce") == "" {
		t.Error("state or nonce missing")
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Path != "/callback" || redirect.Port() == "" {
		t.Errorf("redirect_uri %q is not http://127.0.0.1:PORT/callback", q.Get("redirect_uri"))
	} else if port != 0 && redirect.Port() != fmt.Sprint(port) {
		t.Errorf("redirect_uri %q is not on the fixed port %d", q.Get("redirect_uri"), port)
	}
}

// refreshReport is `token refresh -o json`.
type refreshReport struct {
	Status    string `json:"status"`
	Rotated   bool   `json:"refresh_token_rotated"`
	ExpiresAt string `json:"expires_at"`
}

func refreshJSON(t testing.TB, e *Env) refreshReport {
	t.Helper()
	r := mustRun(t, e, "", "token", "refresh", "-o", "json")
	var rep refreshReport
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("token refresh -o json: %v\n%s", err, r)
	}
	return rep
}

var verifiedYes = regexp.MustCompile(`verified\s+yes`)

func totalTokenRequests(s oidcpeer.Stats) int {
	n := 0
	for _, c := range s.TokenRequests {
		n += c
	}
	return n
}

func TestLoginWithPKCEThenGetRefreshAndInspectAtOIDCProvider(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_SCOPES", loginScopes)

	authURL := login(t, e, p.FollowAuthorization, "--client-auth", "none", "--scope", loginScopes)
	checkAuthorizationRequest(t, authURL, oidcpeer.ClientCLIPublic, 0)
	if n := tokenCount(t, p, "authorization_code"); n != 1 {
		t.Fatalf("the peer counted %d authorization_code requests, want 1", n)
	}

	before := totalTokenRequests(p.Stats(t))
	first := getToken(t, e, "--client-auth", "none")
	if n := totalTokenRequests(p.Stats(t)) - before; n != 0 {
		t.Errorf("token get after the login made %d token requests, want the cached token", n)
	}

	t.Run("token refresh rotates the refresh token and says so", func(t *testing.T) {
		before := tokenCount(t, p, "refresh_token")
		r := mustRun(t, e, "", "token", "refresh", "--client-auth", "none")
		if !regexp.MustCompile(`rotated\s+yes`).MatchString(r.Stderr) {
			t.Errorf("the report does not say the refresh token rotated:\n%s", r.Stderr)
		}
		if rep := refreshJSON(t, e); rep.Status != "refreshed" || !rep.Rotated {
			t.Errorf("-o json: status %q rotated %v, want refreshed and true", rep.Status, rep.Rotated)
		}
		if n := tokenCount(t, p, "refresh_token") - before; n != 2 {
			t.Errorf("the peer counted %d refresh_token requests for two refreshes, want 2", n)
		}
		if s := p.Stats(t); s.GrantsRevoked != 0 {
			t.Errorf("the peer revoked %d grants: a rotated refresh token was reused", s.GrantsRevoked)
		}
		if got := getToken(t, e); got == first {
			t.Error("token get still returns the access token from before the refresh")
		}
	})

	t.Run("token inspect --id-token verifies the ID token against the JWKS", func(t *testing.T) {
		r := mustRun(t, e, "", "token", "inspect", "--id-token")
		if !verifiedYes.MatchString(r.Stdout) || !strings.Contains(r.Stdout, oidcpeer.AccountID) {
			t.Errorf("the ID token of %s is not reported verified:\n%s", oidcpeer.AccountID, r.Stdout)
		}
	})
}

func TestLoginOnAFixedRedirectPort(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none")
	port := freePort(t)
	authURL := login(t, e, p.FollowAuthorization, "--scope", loginScopes, "--redirect-port", fmt.Sprint(port))
	checkAuthorizationRequest(t, authURL, oidcpeer.ClientCLIPublic, port)
}

func TestLoginWithPKCEThenGetAndRefreshAtTheSandbox(t *testing.T) {
	t.Parallel()
	srv := startSandbox(t, sandbox.Options{})
	e := sandboxEnv(t, srv, sandbox.CLIClientID).Set("IDPCTL_SCOPES", loginScopes)

	authURL := login(t, e, srv.FollowAuthorization, "--scope", loginScopes)
	checkAuthorizationRequest(t, authURL, sandbox.CLIClientID, 0)
	tokens := srv.Requests(sandbox.PathToken)

	first := getToken(t, e)
	if n := srv.Requests(sandbox.PathToken) - tokens; n != 0 {
		t.Errorf("token get after the login made %d token requests, want the cached token", n)
	}
	if rep := refreshJSON(t, e); !rep.Rotated {
		t.Error("the sandbox rotates refresh tokens, but the report says it did not")
	}
	if n := srv.Requests(sandbox.PathToken) - tokens; n != 1 {
		t.Errorf("the sandbox saw %d token requests for one refresh, want 1", n)
	}
	if got := getToken(t, e); got == first {
		t.Error("token get still returns the access token from before the refresh")
	}
	r := mustRun(t, e, "", "token", "inspect", "--id-token")
	if !verifiedYes.MatchString(r.Stdout) {
		t.Errorf("the ID token is not reported verified:\n%s", r.Stdout)
	}
}
