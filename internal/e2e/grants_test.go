package e2e

import (
	"slices"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// bearerArgs signs a user assertion with the key the peer trusts for
// AssertionIssuer (RFC 7523 §3).
func bearerArgs(p *oidcpeer.Peer, extra ...string) []string {
	return append([]string{
		"--flow", "jwt-bearer",
		"--assertion-key-file", p.AssertionKeyFile,
		"--assertion-subject", oidcpeer.AccountID,
		"--assertion-issuer", oidcpeer.AssertionIssuer,
	}, extra...)
}

func TestJWTBearerGrantSignsAUserAssertionTheIdPAccepts(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	e := peerEnv(t, p, oidcpeer.ClientExchanger).Set("IDPCTL_STORE", "memory")

	t.Run("aimed at the token endpoint, an opaque token for the subject", func(t *testing.T) {
		tok := getToken(t, e, bearerArgs(p, "--scope", "profile")...)
		rep, r := inspectJSON(t, e, tok, "--introspect")
		in := rep.Introspection
		if r.Code != 0 || in["active"] != true || in["sub"] != oidcpeer.AccountID || in["client_id"] != oidcpeer.ClientExchanger || in["scope"] != "profile" {
			t.Errorf("introspection %v, want active, sub %s, client %s, scope profile\n%s", in, oidcpeer.AccountID, oidcpeer.ClientExchanger, r)
		}
	})
	t.Run("aimed at the issuer, a JWT for the resource", func(t *testing.T) {
		tok := getToken(t, e, bearerArgs(p, "--assertion-audience", p.Issuer, "--resource", oidcpeer.Resource, "--scope", "api:write")...)
		c := claims(t, tok)
		if c["sub"] != oidcpeer.AccountID || c["scope"] != "api:write" || !slices.Contains(audiences(c), oidcpeer.Resource) {
			t.Errorf("claims sub %v scope %v aud %v", c["sub"], c["scope"], c["aud"])
		}
	})
	t.Run("an assertion from an issuer the IdP does not trust is an invalid grant", func(t *testing.T) {
		args := bearerArgs(p)
		args[slices.Index(args, oidcpeer.AssertionIssuer)] = "someone-else"
		r := wantExit(t, e, 3, "", append([]string{"token", "get"}, args...)...)
		if !strings.Contains(r.Stderr, "invalid_grant") {
			t.Errorf("the message should carry the IdP's error:\n%s", r.Stderr)
		}
	})
}

func TestTokenExchangeSwapsAnEarlierTokenForOneAtTheResource(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	subjectEnv := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "memory")
	subject := getToken(t, subjectEnv)

	e := peerEnv(t, p, oidcpeer.ClientExchanger).Set("IDPCTL_STORE", "memory")
	e.Secret(subject)
	subjectFile := e.WriteFile(t, "subject-token", subject+"\n", true)

	t.Run("from a file, for the audience", func(t *testing.T) {
		tok := getToken(t, e, "--flow", "token-exchange", "--subject-token-file", subjectFile, "--audience", oidcpeer.Resource, "--scope", "api:read")
		c := claims(t, tok)
		if !slices.Contains(audiences(c), oidcpeer.Resource) || c["scope"] != "api:read" || c["client_id"] != oidcpeer.ClientExchanger {
			t.Errorf("claims aud %v scope %v client_id %v", c["aud"], c["scope"], c["client_id"])
		}
		rep, r := inspectJSON(t, e, tok)
		if r.Code != 0 || rep.Signature == nil || !rep.Signature.Verified {
			t.Errorf("the exchanged token does not verify\n%s", r)
		}
	})
	t.Run("from stdin, for the resource", func(t *testing.T) {
		r := mustRun(t, e, subject+"\n", "token", "get", "--flow", "token-exchange", "--subject-token-file", "-", "--resource", oidcpeer.Resource)
		if !jwtShape.MatchString(tokenLine(t, r)) {
			t.Error("the token for the resource is not a JWT")
		}
	})
	t.Run("a user token keeps its subject", func(t *testing.T) {
		user := getToken(t, e, bearerArgs(p, "--scope", "profile")...)
		userFile := e.WriteFile(t, "user-token", user, true)
		tok := getToken(t, e, "--flow", "token-exchange", "--subject-token-file", userFile, "--scope", "openid,profile")
		rep, r := inspectJSON(t, e, tok, "--introspect")
		if r.Code != 0 || rep.Introspection["sub"] != oidcpeer.AccountID {
			t.Errorf("introspection %v, want sub %s\n%s", rep.Introspection, oidcpeer.AccountID, r)
		}
	})
	t.Run("a subject token the IdP never issued is refused", func(t *testing.T) {
		bogus := e.WriteFile(t, "bogus-token", "not-a-token-this-idp-issued", true)
		r := wantExit(t, e, 4, "", "token", "get", "--flow", "token-exchange", "--subject-token-file", bogus, "--audience", oidcpeer.Resource)
		if !strings.Contains(r.Stderr, "invalid_request") {
			t.Errorf("the message should carry the IdP's error:\n%s", r.Stderr)
		}
	})
}
