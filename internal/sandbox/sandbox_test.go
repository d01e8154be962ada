package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDiscoveryDocumentsDescribeTheServer(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	iss := s.Issuer()

	var docs []map[string]any
	for _, path := range []string{PathOpenIDConfiguration, PathOAuthMetadata} {
		r := get(t, s, path, "")
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", path, r.status)
		}
		docs = append(docs, r.body)
	}
	a, _ := json.Marshal(docs[0])
	b, _ := json.Marshal(docs[1])
	if !bytes.Equal(a, b) {
		t.Errorf("the two well-known documents differ:\n%s\n%s", a, b)
	}
	doc := docs[0]

	endpoints := map[string]string{
		"issuer":                 iss,
		"authorization_endpoint": iss + "/authorize",
		"token_endpoint":         iss + "/token",
		"jwks_uri":               iss + "/jwks",
		"revocation_endpoint":    iss + "/revoke",
		"introspection_endpoint": iss + "/introspect",
		"userinfo_endpoint":      iss + "/userinfo",
	}
	for field, want := range endpoints {
		if got := doc[field]; got != want {
			t.Errorf("%s = %v, want %q", field, got, want)
		}
	}
	lists := []struct {
		field    string
		want     []string
		complete bool // the list must be exactly want, not just contain it
	}{
		{"response_types_supported", []string{"code"}, true},
		{"code_challenge_methods_supported", []string{"S256"}, true},
		{"id_token_signing_alg_values_supported", []string{"RS256"}, true},
		{"grant_types_supported", []string{"authorization_code", "client_credentials", "refresh_token"}, true},
		{"response_modes_supported", []string{"query"}, true},
		{"token_endpoint_auth_methods_supported", []string{"client_secret_basic", "client_secret_post", "none"}, false},
		{"scopes_supported", []string{"openid", "offline_access", "profile", "api:read", "api:write"}, false},
	}
	for _, l := range lists {
		raw, _ := doc[l.field].([]any)
		var got []string
		for _, v := range raw {
			s, _ := v.(string)
			got = append(got, s)
		}
		if l.complete && !slices.Equal(got, l.want) {
			t.Errorf("%s = %v, want %v", l.field, got, l.want)
		}
		for _, w := range l.want {
			if !slices.Contains(got, w) {
				t.Errorf("%s = %v, missing %q", l.field, got, w)
			}
		}
	}
	if doc["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("authorization_response_iss_parameter_supported = %v, want true", doc["authorization_response_iss_parameter_supported"])
	}
}

func TestIssuerIsALoopbackHTTPURLWithThePortChosenByTheOS(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	u, err := url.Parse(s.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || u.Port() == "0" || u.Path != "" {
		t.Errorf("Issuer() = %q, want http://127.0.0.1:PORT", s.Issuer())
	}
}

func TestJWKSPublishesThePublicSigningAndEncryptionKeysOnly(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	resp, err := httpClient().Get(s.Issuer() + PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("jwks has %d keys, want a signing and an encryption key", len(set.Keys))
	}
	want := []map[string]string{
		{"kty": "RSA", "alg": "RS256", "use": "sig"},
		{"kty": "EC", "crv": "P-256", "alg": "ECDH-ES", "use": "enc"},
	}
	for i, k := range set.Keys {
		for field, w := range want[i] {
			if k[field] != w {
				t.Errorf("key %d: %s = %v, want %q", i, field, k[field], w)
			}
		}
		if kid, _ := k["kid"].(string); kid == "" {
			t.Error("kid is empty")
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Errorf("jwks exposes private member %q", private)
			}
		}
	}
}

func TestClientCredentialsIssuesAJWTAccessTokenThatVerifiesAgainstJWKS(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{AccessTokenLifetime: 90 * time.Second})
	secret := secretOf(t, s, ServiceClientID)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"api:read api:write"}}

	tests := []struct {
		name string
		send func() response
	}{
		{"with client_secret_basic", func() response { return post(t, s, PathToken, form, ServiceClientID, secret) }},
		{"with client_secret_post", func() response {
			f := url.Values{"client_id": {ServiceClientID}, "client_secret": {secret}}
			for k, v := range form {
				f[k] = v
			}
			return post(t, s, PathToken, f, "", "")
		}},
	}
	jwks := fetchJWKS(t, s)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.send()
			if r.status != http.StatusOK {
				t.Fatalf("status %d, body %v", r.status, r.body)
			}
			if !strings.EqualFold(r.str("token_type"), "bearer") {
				t.Errorf("token_type = %q, want bearer", r.str("token_type"))
			}
			if got := numClaim(t, r.body, "expires_in"); got < 85 || got > 90 {
				t.Errorf("expires_in = %d, want about 90", got)
			}
			if _, ok := r.body["refresh_token"]; ok {
				t.Error("client_credentials returned a refresh token")
			}
			at := verifyJWT(t, jwks, r.str("access_token"))
			// RFC 9068 §2.1 asks for typ "at+jwt", but op signs every JWT with typ
			// "JWT" and has no option for it; clients must not rely on typ here.
			if at.typ != "JWT" {
				t.Errorf("typ = %q, want JWT", at.typ)
			}
			want := map[string]string{
				"iss": s.Issuer(), "sub": ServiceClientID, "client_id": ServiceClientID, "scope": "api:read api:write",
			}
			for claim, w := range want {
				if at.claims[claim] != w {
					t.Errorf("claim %s = %v, want %q", claim, at.claims[claim], w)
				}
			}
			if life := numClaim(t, at.claims, "exp") - numClaim(t, at.claims, "iat"); life < 89 || life > 91 {
				t.Errorf("exp - iat = %d, want 90", life)
			}
		})
	}
}

func TestClientCredentialsGrantsARequestedAllowedAudience(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	secret := secretOf(t, s, ServiceClientID)
	r := post(t, s, PathToken, url.Values{"grant_type": {"client_credentials"}, "audience": {DemoAudience}}, ServiceClientID, secret)
	if r.status != http.StatusOK {
		t.Fatalf("status %d, body %v", r.status, r.body)
	}
	at := verifyJWT(t, fetchJWKS(t, s), r.str("access_token"))
	if aud, _ := at.claims["aud"].([]any); len(aud) != 1 || aud[0] != DemoAudience {
		t.Errorf("aud = %v, want [%s]", at.claims["aud"], DemoAudience)
	}

	r = post(t, s, PathToken, url.Values{"grant_type": {"client_credentials"}, "audience": {"https://elsewhere.test"}}, ServiceClientID, secret)
	if r.status == http.StatusOK {
		t.Error("an audience the client may not ask for was granted")
	}
}

func TestTokenRequestsThatMustBeRefused(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{ClientSecret: "right-secret"})
	cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"api:read"}}
	withBody := func(extra url.Values) url.Values {
		f := url.Values{}
		for k, v := range cc {
			f[k] = v
		}
		for k, v := range extra {
			f[k] = v
		}
		return f
	}
	tests := []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		error      string
		challenge  bool // a WWW-Authenticate header is expected (RFC 6749 §5.2)
	}{
		{"a wrong secret in HTTP Basic", cc, ServiceClientID, "wrong-secret", http.StatusUnauthorized, "invalid_client", true},
		{"a wrong secret in the body", withBody(url.Values{"client_id": {ServiceClientID}, "client_secret": {"wrong-secret"}}), "", "", http.StatusUnauthorized, "invalid_client", false},
		{"an unknown client", cc, "nobody", "right-secret", http.StatusUnauthorized, "invalid_client", true},
		// The public client is identified, not authenticated, and may not use the
		// grant: op answers unauthorized_client (RFC 6749 §5.2).
		{"client_credentials for the public client", withBody(url.Values{"client_id": {CLIClientID}}), "", "", http.StatusBadRequest, "unauthorized_client", false},
		{"a scope the client may not have", url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, ServiceClientID, "right-secret", http.StatusBadRequest, "invalid_scope", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, s, PathToken, tt.form, tt.user, tt.pass)
			if r.status != tt.status || r.str("error") != tt.error {
				t.Errorf("got %d %q, want %d %q", r.status, r.str("error"), tt.status, tt.error)
			}
			if _, ok := r.body["access_token"]; ok {
				t.Error("an access token was issued")
			}
			if got := r.header.Get("WWW-Authenticate") != ""; got != tt.challenge {
				t.Errorf("WWW-Authenticate present = %v, want %v", got, tt.challenge)
			}
		})
	}
}

func TestAuthorizationCodeWithPKCEEndToEnd(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	a := newAuthRequest(t, CLIClientID, "openid offline_access profile api:read")

	resp := authorize(t, s, a)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	registered, _ := url.Parse(a.redirectURI)
	if loc.Scheme != "http" || loc.Host != registered.Host || loc.Path != "/callback" {
		t.Errorf("redirected to %s://%s%s, want %s (the requested port, RFC 8252 §7.3)", loc.Scheme, loc.Host, loc.Path, a.redirectURI)
	}
	q := loc.Query()
	if q.Get("state") != a.state {
		t.Errorf("state = %q, want %q", q.Get("state"), a.state)
	}
	if q.Get("iss") != s.Issuer() {
		t.Errorf("iss = %q, want %q (RFC 9207)", q.Get("iss"), s.Issuer())
	}
	code := q.Get("code")
	if code == "" {
		t.Fatal("no code in the authorization response")
	}

	r := exchangeCode(t, s, a, code, a.pkce.verifier)
	if r.status != http.StatusOK {
		t.Fatalf("code exchange: status %d, body %v", r.status, r.body)
	}
	if r.str("refresh_token") == "" {
		t.Error("no refresh token although offline_access was granted")
	}
	if scope := strings.Fields(r.str("scope")); !slices.Contains(scope, "api:read") || !slices.Contains(scope, "openid") {
		t.Errorf("scope = %q, want the requested scopes", r.str("scope"))
	}

	jwks := fetchJWKS(t, s)
	at := verifyJWT(t, jwks, r.str("access_token"))
	for claim, want := range map[string]string{"iss": s.Issuer(), "sub": DemoSubject, "client_id": CLIClientID} {
		if at.claims[claim] != want {
			t.Errorf("access token %s = %v, want %q", claim, at.claims[claim], want)
		}
	}
	id := verifyJWT(t, jwks, r.str("id_token"))
	for claim, want := range map[string]string{"iss": s.Issuer(), "sub": DemoSubject, "nonce": a.nonce} {
		if id.claims[claim] != want {
			t.Errorf("id token %s = %v, want %q", claim, id.claims[claim], want)
		}
	}
	if aud, _ := id.claims["aud"].([]any); !slices.Contains(aud, any(CLIClientID)) {
		t.Errorf("id token aud = %v, want it to contain %q", id.claims["aud"], CLIClientID)
	}

	if again := exchangeCode(t, s, a, code, a.pkce.verifier); again.status != http.StatusBadRequest || again.str("error") != "invalid_grant" {
		t.Errorf("second use of the code: %d %q, want 400 invalid_grant", again.status, again.str("error"))
	}
}

func TestAuthorizationCodeForTheConfidentialClient(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	r := login(t, s, ServiceClientID, "offline_access api:write")
	if r.str("refresh_token") == "" {
		t.Error("no refresh token")
	}
	if _, ok := r.body["id_token"]; ok {
		t.Error("an id token was issued without the openid scope")
	}
	at := verifyJWT(t, fetchJWKS(t, s), r.str("access_token"))
	if at.claims["sub"] != DemoSubject || at.claims["client_id"] != ServiceClientID {
		t.Errorf("sub, client_id = %v, %v; want %s, %s", at.claims["sub"], at.claims["client_id"], DemoSubject, ServiceClientID)
	}
}

func TestCodeExchangeWithTheWrongVerifierIsRefused(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	a := newAuthRequest(t, CLIClientID, "openid api:read")
	code := authorizeCode(t, s, a)

	r := exchangeCode(t, s, a, code, newPKCE(t).verifier)
	if r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
		t.Errorf("got %d %q, want 400 invalid_grant", r.status, r.str("error"))
	}
	if _, ok := r.body["access_token"]; ok {
		t.Error("an access token was issued")
	}
}

func TestAuthorizationRequestsThatMustBeRefused(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	tests := []struct {
		name   string
		modify func(*authRequest)
		// redirected: the error goes back to the client; otherwise the redirect URI
		// cannot be trusted and the error is shown to the user (RFC 6749 §4.1.2.1).
		redirected bool
		error      string
	}{
		{"without a code challenge", func(a *authRequest) { a.omitChallenge = true }, true, "invalid_request"},
		{"with the plain challenge method", func(a *authRequest) { a.method = "plain" }, true, "invalid_request"},
		{"with a scope the client may not have", func(a *authRequest) { a.scope = "openid api:write" }, true, "invalid_scope"},
		{"with a redirect to another host", func(a *authRequest) { a.redirectURI = "http://attacker.test/callback" }, false, "invalid_request"},
		{"with a redirect to another loopback path", func(a *authRequest) { a.redirectURI = strings.Replace(a.redirectURI, "/callback", "/other", 1) }, false, "invalid_request"},
		{"for an unknown client", func(a *authRequest) { a.clientID = "nobody" }, false, "invalid_client"},
		{"with an audience the client may not ask for", func(a *authRequest) { a.extra = url.Values{"audience": {"https://elsewhere.test"}} }, true, "invalid_target"},
		{"in the fragment response mode", func(a *authRequest) { a.extra = url.Values{"response_mode": {"fragment"}} }, true, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAuthRequest(t, CLIClientID, "openid api:read")
			tt.modify(&a)
			resp := authorize(t, s, a)
			loc := resp.Header.Get("Location")
			if !tt.redirected {
				if loc != "" {
					t.Fatalf("redirected to %s, want no redirect", loc)
				}
				if resp.StatusCode < 400 {
					t.Errorf("status %d, want an error", resp.StatusCode)
				}
				return
			}
			u, err := url.Parse(loc)
			if err != nil || loc == "" {
				t.Fatalf("status %d, Location %q: want an error redirect", resp.StatusCode, loc)
			}
			q := u.Query()
			if q.Get("error") != tt.error || q.Get("code") != "" {
				t.Errorf("error = %q, code present = %v; want %q and no code", q.Get("error"), q.Get("code") != "", tt.error)
			}
			if q.Get("state") != a.state {
				t.Errorf("state = %q, want %q", q.Get("state"), a.state)
			}
			if q.Get("iss") != s.Issuer() {
				t.Errorf("iss = %q, want %q (RFC 9207 §2 covers error responses)", q.Get("iss"), s.Issuer())
			}
		})
	}
}

func TestRefreshRotatesAndTheOldRefreshTokenIsThenRefused(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	first := login(t, s, CLIClientID, "openid offline_access api:read")
	jwks := fetchJWKS(t, s)
	firstAT := verifyJWT(t, jwks, first.str("access_token"))

	// The access-token iat has one-second resolution; wait so a stale iat shows.
	time.Sleep(1100 * time.Millisecond)
	before := time.Now().Unix()
	second := refresh(t, s, CLIClientID, first.str("refresh_token"))
	if second.status != http.StatusOK {
		t.Fatalf("refresh: status %d, body %v", second.status, second.body)
	}
	if second.str("refresh_token") == "" || second.str("refresh_token") == first.str("refresh_token") {
		t.Fatal("the refresh token was not rotated")
	}
	if second.str("access_token") == first.str("access_token") {
		t.Error("the access token was not renewed")
	}
	at := verifyJWT(t, jwks, second.str("access_token"))
	if at.claims["sub"] != DemoSubject || at.claims["scope"] != firstAT.claims["scope"] {
		t.Errorf("refreshed sub, scope = %v, %v; want %s, %v", at.claims["sub"], at.claims["scope"], DemoSubject, firstAT.claims["scope"])
	}
	if iat := numClaim(t, at.claims, "iat"); iat < before {
		t.Errorf("refreshed access token iat = %d, before the refresh at %d", iat, before)
	}
	if id := verifyJWT(t, jwks, second.str("id_token")); id.claims["sub"] != DemoSubject {
		t.Errorf("refreshed id token sub = %v", id.claims["sub"])
	}

	reuse := refresh(t, s, CLIClientID, first.str("refresh_token"))
	if reuse.status != http.StatusBadRequest || reuse.str("error") != "invalid_grant" {
		t.Fatalf("reuse of the old refresh token: %d %q, want 400 invalid_grant", reuse.status, reuse.str("error"))
	}
	// Reuse detection revokes the family (RFC 9700 §4.14.2): the current token dies too.
	if r := refresh(t, s, CLIClientID, second.str("refresh_token")); r.status == http.StatusOK {
		t.Error("the newest refresh token still works after a reuse was detected")
	}
}

func TestRevokedTokensIntrospectAsInactive(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{RefreshTokenLifetime: time.Hour})

	t.Run("a refresh token, and the access token of its grant", func(t *testing.T) {
		tok := login(t, s, CLIClientID, "openid offline_access api:read")
		rt, at := tok.str("refresh_token"), tok.str("access_token")

		r := introspect(t, s, rt)
		if r.body["active"] != true || r.str("token_use") != "refresh_token" || r.str("sub") != DemoSubject || r.str("client_id") != CLIClientID {
			t.Fatalf("before revocation: %v", r.body)
		}
		if _, ok := r.body["token_type"]; ok {
			t.Errorf("a refresh token introspects with token_type %v; RFC 7662 token_type names an access token type", r.body["token_type"])
		}
		if left := numClaim(t, r.body, "exp") - time.Now().Unix(); left < 3590 || left > 3601 {
			t.Errorf("refresh token exp is %ds away, want about an hour", left)
		}
		if r := introspect(t, s, at); r.body["active"] != true || r.str("token_type") != "Bearer" {
			t.Fatalf("access token before revocation: %v", r.body)
		}

		// A public client authenticates by client_id alone (RFC 7009 §2.1).
		rev := post(t, s, PathRevoke, url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}, "client_id": {CLIClientID}}, "", "")
		if rev.status != http.StatusOK {
			t.Fatalf("revoke: status %d, body %v", rev.status, rev.body)
		}
		for name, token := range map[string]string{"refresh token": rt, "access token": at} {
			if r := introspect(t, s, token); r.body["active"] != false || len(r.body) != 1 {
				t.Errorf("%s after revocation: %v, want only active=false", name, r.body)
			}
		}
		if r := refresh(t, s, CLIClientID, rt); r.status == http.StatusOK {
			t.Error("the revoked refresh token still refreshes")
		}
	})

	t.Run("a JWT access token, whose signature stays valid", func(t *testing.T) {
		at := clientCredentials(t, s, "api:read").str("access_token")
		if r := introspect(t, s, at); r.body["active"] != true || r.str("sub") != ServiceClientID || r.str("scope") != "api:read" {
			t.Fatalf("before revocation: %v", r.body)
		}
		rev := post(t, s, PathRevoke, url.Values{"token": {at}}, ServiceClientID, secretOf(t, s, ServiceClientID))
		if rev.status != http.StatusOK {
			t.Fatalf("revoke: status %d", rev.status)
		}
		verifyJWT(t, fetchJWKS(t, s), at)
		if r := introspect(t, s, at); r.body["active"] != false {
			t.Errorf("after revocation: %v, want active=false", r.body)
		}
	})

	t.Run("an unknown token", func(t *testing.T) {
		rev := post(t, s, PathRevoke, url.Values{"token": {"not-a-token"}}, ServiceClientID, secretOf(t, s, ServiceClientID))
		if rev.status != http.StatusOK {
			t.Errorf("revoke of an unknown token: status %d, want 200 (RFC 7009 §2.2)", rev.status)
		}
		if r := introspect(t, s, "not-a-token"); r.body["active"] != false {
			t.Errorf("introspect: %v, want active=false", r.body)
		}
	})
}

func TestIntrospectionRequiresClientAuthentication(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	at := clientCredentials(t, s, "api:read").str("access_token")
	tests := []struct {
		name       string
		user, pass string
		status     int
		error      string
	}{
		// op refuses a request that names no client as malformed, before any
		// authentication, and a client without a secret as unauthenticated, with 400;
		// RFC 6749 §5.2 would have 401 for the latter, as it came in HTTP Basic.
		{"without credentials", "", "", http.StatusBadRequest, "invalid_request"},
		{"as the public client", CLIClientID, "", http.StatusBadRequest, "invalid_client"},
		{"with a wrong secret", ServiceClientID, "wrong", http.StatusUnauthorized, "invalid_client"},
		{"as an unknown client", "nobody", "secret", http.StatusUnauthorized, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := post(t, s, PathIntrospect, url.Values{"token": {at}}, tt.user, tt.pass)
			if r.status != tt.status || r.str("error") != tt.error {
				t.Errorf("got %d %q, want %d %q", r.status, r.str("error"), tt.status, tt.error)
			}
			if _, ok := r.body["active"]; ok {
				t.Error("the token was described to an unauthenticated caller")
			}
			if challenged := r.header.Get("WWW-Authenticate") != ""; challenged != (tt.status == http.StatusUnauthorized) {
				t.Errorf("WWW-Authenticate = %q with status %d", r.header.Get("WWW-Authenticate"), r.status)
			}
		})
	}
}

func TestUserinfoAnswersForAnOpenIDAccessToken(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	user := login(t, s, CLIClientID, "openid offline_access profile api:read")
	service := clientCredentials(t, s, "api:read")

	tests := []struct {
		name   string
		bearer string
		status int
		sub    string
		error  string // RFC 6750 §3.1
	}{
		{"a user token with openid", user.str("access_token"), http.StatusOK, DemoSubject, ""},
		{"a client token without openid", service.str("access_token"), http.StatusForbidden, "", "insufficient_scope"},
		{"a refresh token", user.str("refresh_token"), http.StatusUnauthorized, "", "invalid_token"},
		{"no token", "", http.StatusUnauthorized, "", "invalid_request"},
		{"a garbage token", "garbage", http.StatusUnauthorized, "", "invalid_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := get(t, s, PathUserinfo, tt.bearer)
			if r.status != tt.status || r.str("sub") != tt.sub || r.str("error") != tt.error {
				t.Errorf("got %d sub=%q error=%q, want %d sub=%q error=%q", r.status, r.str("sub"), r.str("error"), tt.status, tt.sub, tt.error)
			}
			if tt.status != http.StatusOK && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge (RFC 6750 §3)", r.header.Get("WWW-Authenticate"))
			}
		})
	}
}

func TestStartRefusesAddressesOtherThanLoopback(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.10:0", "example.com:0", "127.0.0.1"} {
		t.Run(addr, func(t *testing.T) {
			s, err := Start(context.Background(), Options{Addr: addr})
			if err == nil {
				s.Close()
				t.Fatalf("Start(%q) succeeded, want an error", addr)
			}
			// Refused for what it is, not because binding happened to fail.
			if addr != "127.0.0.1" && !strings.Contains(err.Error(), "not loopback") {
				t.Errorf("error %q does not say the address is not loopback", err)
			}
		})
	}
}

func TestStartAcceptsLocalhost(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{Addr: "localhost:0"})
	if r := get(t, s, PathJWKS, ""); r.status != http.StatusOK {
		t.Errorf("jwks: status %d", r.status)
	}
}

func TestStartRefusesInvalidOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts Options
	}{
		{"a negative access token lifetime", Options{AccessTokenLifetime: -time.Minute}},
		{"a sub-second refresh token lifetime", Options{RefreshTokenLifetime: time.Millisecond}},
		{"a client secret longer than bcrypt allows", Options{ClientSecret: strings.Repeat("x", 73)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Start(context.Background(), tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Start succeeded, want an error")
			}
			if tt.opts.ClientSecret != "" && strings.Contains(err.Error(), tt.opts.ClientSecret) {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func TestClientsDescribeTheDemoClients(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{ClientSecret: "chosen-secret"})
	clients := s.Clients()
	if len(clients) != 2 {
		t.Fatalf("%d clients, want 2", len(clients))
	}
	service, _ := s.Client(ServiceClientID)
	cli, _ := s.Client(CLIClientID)
	if service.Secret != "chosen-secret" || service.AuthMethod != "client_secret_basic" || !slices.Contains(service.GrantTypes, "client_credentials") {
		t.Errorf("demo-service = %+v", service)
	}
	if cli.Secret != "" || cli.AuthMethod != "none" || slices.Contains(cli.GrantTypes, "client_credentials") ||
		!slices.Equal(cli.RedirectURIs, []string{"http://127.0.0.1/callback"}) {
		t.Errorf("demo-cli = %+v", cli)
	}
	if s.DemoUser() != DemoSubject {
		t.Errorf("DemoUser() = %q", s.DemoUser())
	}

	clients[0].Scopes[0] = "changed"
	if again, _ := s.Client(clients[0].ID); again.Scopes[0] == "changed" {
		t.Error("Clients() shares its slices with the server")
	}
}

func TestGeneratedClientSecretsAreRandom(t *testing.T) {
	t.Parallel()
	a := secretOf(t, startSandbox(t, Options{}), ServiceClientID)
	b := secretOf(t, startSandbox(t, Options{}), ServiceClientID)
	if len(a) < 32 || a == b {
		t.Errorf("generated secrets %q and %q: want two different long values", a, b)
	}
}

func TestRequestsCountsEachPath(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	get(t, s, PathOpenIDConfiguration, "")
	get(t, s, PathOpenIDConfiguration, "")
	clientCredentials(t, s, "api:read")
	post(t, s, PathToken, url.Values{"grant_type": {"client_credentials"}}, ServiceClientID, "wrong")

	want := map[string]int{PathOpenIDConfiguration: 2, PathToken: 2, PathOAuthMetadata: 0, PathJWKS: 0, "/nowhere": 0}
	for path, n := range want {
		if got := s.Requests(path); got != n {
			t.Errorf("Requests(%q) = %d, want %d", path, got, n)
		}
	}
}

func TestRequestLogNamesRequestsButNoSecrets(t *testing.T) {
	t.Parallel()
	var log lockedBuffer
	s := startSandbox(t, Options{Log: &log, ClientSecret: "very-secret-value"})
	cc := clientCredentials(t, s, "api:read")
	a := newAuthRequest(t, CLIClientID, "openid offline_access")
	code := authorizeCode(t, s, a)
	tok := exchangeCode(t, s, a, code, a.pkce.verifier)
	post(t, s, PathToken, url.Values{"grant_type": {"client_credentials"}}, ServiceClientID, "wrong")
	s.Close()

	out := log.String()
	for _, line := range []string{"POST /token 200\n", "GET /authorize 302\n", "GET /login 302\n", "GET /authorize/callback 302\n", "POST /token 401\n"} {
		if !strings.Contains(out, line) {
			t.Errorf("log lacks %q:\n%s", line, out)
		}
	}
	secrets := map[string]string{
		"client secret": "very-secret-value", "access token": cc.str("access_token"), "code": code,
		"refresh token": tok.str("refresh_token"), "code verifier": a.pkce.verifier, "state": a.state,
	}
	for name, v := range secrets {
		if v == "" {
			t.Fatalf("%s is empty", name)
		}
		if strings.Contains(out, v) {
			t.Errorf("log contains the %s", name)
		}
	}
}

func TestCloseStopsTheListener(t *testing.T) {
	t.Parallel()
	s, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(s.Issuer(), "http://")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Error("still accepting connections after Close")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCancellingTheStartContextStopsTheServer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r := get(t, s, PathJWKS, ""); r.status != http.StatusOK {
		t.Fatalf("jwks: status %d", r.status)
	}
	cancel()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err = httpClient().Get(s.Issuer() + PathJWKS)
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("request after cancel: err = %v, want a connection error", err)
	}
}

// lockedBuffer is an io.Writer safe for the server's concurrent handlers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestConcurrentUsesOfOneRefreshTokenYieldOneSuccess(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	rt := login(t, s, CLIClientID, "offline_access api:read").str("refresh_token")

	const racers = 8
	statuses := make(chan int, racers)
	var wg sync.WaitGroup
	for range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {CLIClientID}}
			req, _ := http.NewRequest(http.MethodPost, s.Issuer()+PathToken, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := httpClient().Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for st := range statuses {
		if st == http.StatusOK {
			ok++
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent refreshes with one token succeeded, want exactly 1", ok, racers)
	}
}

// Not parallel: it compares the process's goroutine count, so nothing else may run.
func TestCloseLeavesNoGoroutinesBehind(t *testing.T) {
	before := runtime.NumGoroutine()
	s, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tok := login(t, s, CLIClientID, "openid offline_access api:read")
	refresh(t, s, CLIClientID, tok.str("refresh_token"))
	clientCredentials(t, s, "api:read")
	introspect(t, s, tok.str("access_token"))
	get(t, s, PathUserinfo, tok.str("access_token"))
	get(t, s, PathOpenIDConfiguration, "")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()

	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines before Start, %d after Close:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
