package e2e

import (
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// cachedRefreshToken reads the profile's refresh token out of the file
// store, as a user could; the test hands it to `token revoke -` on stdin.
func cachedRefreshToken(t testing.TB, e *Env) string {
	t.Helper()
	if e.Get("IDPCTL_STORE") != "file" {
		t.Fatalf("cachedRefreshToken needs the file store, not %q", e.Get("IDPCTL_STORE"))
	}
	raw := mustRead(t, filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "credentials.json"))
	var doc struct {
		Items map[string][]byte `json:"items"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse the file store: %v", err)
	}
	item, ok := doc.Items[e.Get("IDPCTL_PROFILE")+":refresh_token"]
	if !ok {
		t.Fatal("the file store holds no refresh token for the profile")
	}
	var rt struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(item, &rt); err != nil || rt.RefreshToken == "" {
		t.Fatalf("the cached refresh token is unreadable: %v", err)
	}
	e.Secret(rt.RefreshToken)
	return rt.RefreshToken
}

// wantInactive checks that the IdP no longer takes the token: `token
// inspect --introspect` fails and says why.
func wantInactive(t testing.TB, e *Env, token string) {
	t.Helper()
	rep, r := inspectJSON(t, e, token, "--introspect")
	if r.Code == 0 || rep.Valid || rep.Introspection["active"] != false {
		t.Errorf("the revoked token is still active\n%s", r)
	}
	if !strings.Contains(r.Stderr, "not active") {
		t.Errorf("the message should say the token is not active:\n%s", r.Stderr)
	}
}

func TestTokenRevokeEndsTokensAtTheIdP(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	// Each subtest logs in anew and checks the peer's counters, so they
	// run one after another on the one peer.
	newLogin := func(t *testing.T, store string) (*Env, string) {
		e := peerEnv(t, p, oidcpeer.ClientCLIConfidential).Set("IDPCTL_SCOPES", loginScopes)
		if store != "" {
			e.Set("IDPCTL_STORE", store)
		}
		login(t, e, p.FollowAuthorization, "--scope", loginScopes)
		return e, getToken(t, e)
	}

	t.Run("without an argument the cached tokens are revoked and forgotten", func(t *testing.T) {
		e, access := newLogin(t, "")
		before := p.Stats(t)
		r := mustRun(t, e, "", "token", "revoke")
		if !strings.Contains(r.Stderr, "refresh token: revoked") || !strings.Contains(r.Stderr, "access token: revoked") {
			t.Errorf("the report should list both tokens as revoked:\n%s", r.Stderr)
		}
		if n := p.Stats(t).Revocations - before.Revocations; n != 2 {
			t.Errorf("the peer counted %d revocations, want 2", n)
		}
		wantInactive(t, e, access)

		refreshes := tokenCount(t, p, "refresh_token")
		r = wantExit(t, e, 3, "", "token", "refresh")
		if !strings.Contains(r.Stderr, "no refresh token") {
			t.Errorf("the message should say nothing is cached:\n%s", r.Stderr)
		}
		if n := tokenCount(t, p, "refresh_token") - refreshes; n != 0 {
			t.Errorf("a refresh without a cached refresh token reached the IdP %d times", n)
		}
	})

	t.Run("a refresh token on stdin is revoked with its grant", func(t *testing.T) {
		e, access := newLogin(t, "file")
		refresh := cachedRefreshToken(t, e)
		before := p.Stats(t)
		mustRun(t, e, refresh+"\n", "token", "revoke", "-", "--hint", "refresh_token")
		if s := p.Stats(t); s.Revocations-before.Revocations != 1 || s.GrantsRevoked-before.GrantsRevoked != 1 {
			t.Errorf("the peer counted %d revocations and %d revoked grants, want 1 and 1", s.Revocations-before.Revocations, s.GrantsRevoked-before.GrantsRevoked)
		}
		wantInactive(t, e, access)

		// The local copy is still there; the IdP refuses it.
		refreshes := tokenCount(t, p, "refresh_token")
		r := wantExit(t, e, 3, "", "token", "refresh")
		if !strings.Contains(r.Stderr, "invalid_grant") {
			t.Errorf("the message should carry the IdP's invalid_grant:\n%s", r.Stderr)
		}
		if n := tokenCount(t, p, "refresh_token") - refreshes; n != 1 {
			t.Errorf("the peer counted %d refresh_token requests, want 1 refused one", n)
		}
	})

	t.Run("an access token on stdin is revoked", func(t *testing.T) {
		e, access := newLogin(t, "")
		before := p.Stats(t).Revocations
		r := mustRun(t, e, access+"\n", "token", "revoke", "-", "--hint", "access_token")
		if !strings.Contains(r.Stderr, "access token: revoked") {
			t.Errorf("the report should say the access token was revoked:\n%s", r.Stderr)
		}
		if n := p.Stats(t).Revocations - before; n != 1 {
			t.Errorf("the peer counted %d revocations, want 1", n)
		}
		wantInactive(t, e, access)
	})
}

// flipSignatureBit returns the JWT with one bit of its signature changed.
func flipSignatureBit(t testing.TB, jwt string) string {
	t.Helper()
	i := strings.LastIndexByte(jwt, '.')
	sig, err := base64.RawURLEncoding.DecodeString(jwt[i+1:])
	if err != nil || len(sig) == 0 {
		t.Fatalf("decode signature: %v", err)
	}
	sig[len(sig)/2] ^= 0x01
	return jwt[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func TestTokenInspectVerifiesJWTsAndIntrospectsOpaqueTokens(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	e := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "memory")
	jwt := getToken(t, e, "--resource", oidcpeer.Resource)

	t.Run("a resource JWT verifies against the JWKS", func(t *testing.T) {
		r := mustRun(t, e, jwt+"\n", "token", "inspect", "-")
		if !verifiedYes.MatchString(r.Stdout) {
			t.Errorf("not reported verified:\n%s", r.Stdout)
		}
		rep, _ := inspectJSON(t, e, jwt)
		if !rep.Valid || rep.Format != "jwt" || rep.Signature == nil || !rep.Signature.Verified || rep.Signature.Alg != "RS256" || rep.Signature.KeyID == "" {
			t.Errorf("-o json report %+v, want a valid jwt verified with an RS256 key", rep)
		}
	})
	t.Run("a JWT with one bit of its signature flipped is refused", func(t *testing.T) {
		tampered := flipSignatureBit(t, jwt)
		e.Secret(tampered)
		// The report is data and still goes to stdout; the verdict is the
		// exit status and the message.
		r := run(t, e, tampered+"\n", "token", "inspect", "-")
		if r.Code != 1 {
			t.Errorf("want exit 1\n%s", r)
		}
		rep, _ := inspectJSON(t, e, tampered)
		if rep.Valid || rep.Signature == nil || rep.Signature.Verified || !strings.Contains(rep.Signature.Error, "signature") {
			t.Errorf("report %+v, want the signature refused", rep.Signature)
		}
		if !strings.Contains(r.Stderr, "signature") {
			t.Errorf("the message should say the signature is bad:\n%s", r.Stderr)
		}
	})
	t.Run("an opaque token is active at the introspection endpoint", func(t *testing.T) {
		opaque := getToken(t, e)
		if jwtShape.MatchString(opaque) {
			t.Fatal("a token without a resource should be opaque")
		}
		rep, r := inspectJSON(t, e, opaque, "--introspect")
		if r.Code != 0 || !rep.Valid || rep.Format != "opaque" || rep.Introspection["active"] != true {
			t.Errorf("report %+v, want an active opaque token\n%s", rep, r)
		}
		text := mustRun(t, e, opaque+"\n", "token", "inspect", "--introspect", "-")
		if !strings.Contains(text.Stdout, "active") || !strings.Contains(text.Stdout, "true") {
			t.Errorf("the text report does not show the token active:\n%s", text.Stdout)
		}
	})
}
