package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestTheConfidentialClientMustSendTheCodeVerifierToo(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	a := newAuthRequest(t, ServiceClientID, "openid api:read")
	code := authorizeCode(t, s, a)

	r := exchangeCode(t, s, a, code, "")
	if r.status != http.StatusBadRequest || r.str("error") != "invalid_request" {
		t.Errorf("without code_verifier: %d %q, want 400 invalid_request", r.status, r.str("error"))
	}
	if _, ok := r.body["access_token"]; ok {
		t.Fatal("an access token was issued without the code_verifier")
	}
	if r := exchangeCode(t, s, a, code, a.pkce.verifier); r.status != http.StatusOK {
		t.Errorf("with the code_verifier: status %d, body %v", r.status, r.body)
	}
}

func TestAuthorizationGrantsARequestedAllowedAudience(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	a := newAuthRequest(t, CLIClientID, "openid api:read")
	a.extra = url.Values{"audience": {DemoAudience}}
	r := exchangeCode(t, s, a, authorizeCode(t, s, a), a.pkce.verifier)
	if r.status != http.StatusOK {
		t.Fatalf("code exchange: status %d, body %v", r.status, r.body)
	}
	jwks := fetchJWKS(t, s)
	if aud, _ := verifyJWT(t, jwks, r.str("access_token")).claims["aud"].([]any); !slices.Equal(aud, []any{DemoAudience}) {
		t.Errorf("access token aud = %v, want [%s]", aud, DemoAudience)
	}
	// OpenID Connect Core §2: the ID token's audience includes the client.
	aud, _ := verifyJWT(t, jwks, r.str("id_token")).claims["aud"].([]any)
	if !slices.Contains(aud, any(CLIClientID)) || !slices.Contains(aud, any(DemoAudience)) {
		t.Errorf("id token aud = %v, want %s and %s", aud, CLIClientID, DemoAudience)
	}
}

func TestRefreshCanNarrowTheScopeWhileTheRotatedTokenKeepsTheGrant(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	first := login(t, s, CLIClientID, "openid offline_access api:read")

	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.str("refresh_token")}, "client_id": {CLIClientID}, "scope": {"api:read"}}
	narrow := post(t, s, PathToken, form, "", "")
	if narrow.status != http.StatusOK || narrow.str("scope") != "api:read" {
		t.Fatalf("narrowed refresh: status %d, scope %q; want 200 and api:read", narrow.status, narrow.str("scope"))
	}
	if _, ok := narrow.body["id_token"]; ok {
		t.Error("an ID token came back for a refresh without openid")
	}
	// RFC 6749 §6: the new refresh token has the scope of the one presented.
	full := refresh(t, s, CLIClientID, narrow.str("refresh_token"))
	if full.status != http.StatusOK || full.str("scope") != "openid offline_access api:read" {
		t.Errorf("refresh with the rotated token: status %d, scope %q; want the original scope", full.status, full.str("scope"))
	}
	form.Set("scope", "api:write")
	form.Set("refresh_token", full.str("refresh_token"))
	if r := post(t, s, PathToken, form, "", ""); r.status != http.StatusBadRequest || r.str("error") != "invalid_scope" {
		t.Errorf("refresh widening the scope: %d %q, want 400 invalid_scope", r.status, r.str("error"))
	}
}

func TestAClientCannotRevokeAnotherClientsToken(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	rt := login(t, s, CLIClientID, "offline_access api:read").str("refresh_token")

	r := post(t, s, PathRevoke, url.Values{"token": {rt}}, ServiceClientID, secretOf(t, s, ServiceClientID))
	if r.status != http.StatusBadRequest || r.str("error") != "unauthorized_client" {
		t.Errorf("revoke by another client: %d %q, want 400 unauthorized_client (RFC 7009 §2.1)", r.status, r.str("error"))
	}
	if in := introspect(t, s, rt); in.body["active"] != true {
		t.Errorf("after the refused revocation: %v, want active", in.body)
	}
}

func TestTheLoginStepApprovesOnlyPendingRequestsAndOnlyOnce(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	if r := get(t, s, pathLogin+"?id=unknown", ""); r.status != http.StatusBadRequest {
		t.Errorf("login for an unknown request: status %d, want 400", r.status)
	}

	// Walk the redirects by hand to replay the callback.
	a := newAuthRequest(t, CLIClientID, "openid")
	q := url.Values{
		"response_type": {"code"}, "client_id": {a.clientID}, "redirect_uri": {a.redirectURI}, "scope": {a.scope},
		"state": {a.state}, "code_challenge": {a.pkce.challenge}, "code_challenge_method": {"S256"},
	}
	next := s.Issuer() + PathAuthorize + "?" + q.Encode()
	var callback string
	for range 3 {
		resp, err := httpClient().Get(next)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if strings.HasPrefix(next, s.Issuer()+pathCallback) {
			callback = next
		}
		next = resp.Header.Get("Location")
	}
	code, _ := url.Parse(next)
	if callback == "" || code.Query().Get("code") == "" {
		t.Fatalf("no code came back through op's callback (last Location %s)", code.Redacted())
	}
	resp, err := httpClient().Get(callback)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	again, _ := url.Parse(resp.Header.Get("Location"))
	if again.Query().Get("code") != "" || again.Query().Get("error") == "" {
		t.Errorf("a replayed callback answered %d %s, want an error and no second code", resp.StatusCode, again.Redacted())
	}
}

func TestMetadataIsTheServedDocument(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	served := get(t, s, PathOpenIDConfiguration, "").body
	raw, err := json.Marshal(s.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	var md map[string]any
	if err := json.Unmarshal(raw, &md); err != nil {
		t.Fatal(err)
	}
	for field, want := range md {
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(served[field])
		if string(a) != string(b) {
			t.Errorf("Metadata().%s = %s, served %s", field, a, b)
		}
	}
}

func TestAnAlteredRefreshTokenIsNotTheToken(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, Options{})
	rt := login(t, s, CLIClientID, "offline_access api:read").str("refresh_token")
	// The token's last characters encrypt the end of its subject; change one.
	i := len(rt) - 2
	swap := byte('A')
	if rt[i] == swap {
		swap = 'B'
	}
	altered := rt[:i] + string(swap) + rt[i+1:]

	if r := refresh(t, s, CLIClientID, altered); r.status != http.StatusBadRequest || r.str("error") != "invalid_grant" {
		t.Errorf("refresh with the altered token: %d %q, want 400 invalid_grant", r.status, r.str("error"))
	}
	if r := introspect(t, s, altered); r.body["active"] != false {
		t.Errorf("introspecting the altered token: %v, want active=false", r.body)
	}
	post(t, s, PathRevoke, url.Values{"token": {altered}, "client_id": {CLIClientID}}, "", "")
	if r := introspect(t, s, rt); r.body["active"] != true {
		t.Errorf("after revoking the altered token the real one is %v, want active", r.body)
	}
}
