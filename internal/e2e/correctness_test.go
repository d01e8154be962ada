package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// OAuth writes a scope list as one space-separated string (RFC 6749 §3.3),
// and people copy it that way: the login must treat it as two scopes, send
// a nonce for openid, and accept the ID token a real IdP returns.
func TestLoginWithSpaceSeparatedScopesAsOneArgumentAtOIDCProvider(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCLIPublic).Set("IDPCTL_CLIENT_AUTH_METHOD", "none").
		Set("IDPCTL_SCOPES", "openid offline_access")

	authURL := login(t, e, p.FollowAuthorization, "--scope", "openid offline_access")
	checkAuthorizationRequest(t, authURL, oidcpeer.ClientCLIPublic, 0)
	if got := authURL.Query().Get("scope"); got != "openid offline_access" {
		t.Errorf("the authorization request asks for scope %q, want \"openid offline_access\"", got)
	}
	r := mustRun(t, e, "", "token", "inspect", "--id-token")
	if !verifiedYes.MatchString(r.Stdout) {
		t.Errorf("the ID token of the login is not reported verified:\n%s", r.Stdout)
	}
	// The token the login cached serves a token get naming the same scopes
	// in another spelling.
	before := totalTokenRequests(p.Stats(t))
	getToken(t, e, "--scope", "openid,offline_access")
	if n := totalTokenRequests(p.Stats(t)) - before; n != 0 {
		t.Errorf("token get made %d token requests, want the token the login cached", n)
	}
	if !strings.Contains(r.Stdout, oidcpeer.AccountID) {
		t.Errorf("the ID token is not the account's:\n%s", r.Stdout)
	}
}
