package oidcpeer_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

type metadata struct {
	Issuer                      string   `json:"issuer"`
	AuthorizationEndpoint       string   `json:"authorization_endpoint"`
	TokenEndpoint               string   `json:"token_endpoint"`
	DeviceAuthorizationEndpoint string   `json:"device_authorization_endpoint"`
	IntrospectionEndpoint       string   `json:"introspection_endpoint"`
	RevocationEndpoint          string   `json:"revocation_endpoint"`
	JWKSURI                     string   `json:"jwks_uri"`
	GrantTypesSupported         []string `json:"grant_types_supported"`
	CodeChallengeMethods        []string `json:"code_challenge_methods_supported"`
	ISSParameterSupported       bool     `json:"authorization_response_iss_parameter_supported"`
	AuthMethods                 []string `json:"token_endpoint_auth_methods_supported"`
}

type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshToken     string `json:"refresh_token"`
	IDToken          string `json:"id_token"`
	Scope            string `json:"scope"`
	IssuedTokenType  string `json:"issued_token_type"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

type introspection struct {
	Active   bool   `json:"active"`
	Sub      string `json:"sub"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
}

func discover(t *testing.T, p *oidcpeer.Peer) metadata {
	t.Helper()
	var md metadata
	if status := call(t, p.HTTPClient(), http.MethodGet, p.Issuer+"/.well-known/openid-configuration", nil, "", &md); status != http.StatusOK {
		t.Fatalf("discovery: status %d", status)
	}
	return md
}

// call sends form (POST) or nothing (GET), with HTTP Basic client
// authentication when basicClient names a client with a secret, and decodes
// the JSON answer into out.
func call(t *testing.T, c *http.Client, method, endpoint string, form url.Values, basicClient string, out any, secret ...string) int {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, endpoint, body)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if basicClient != "" {
		// RFC 6749 §2.3.1: both parts are form-urlencoded before Basic.
		req.SetBasicAuth(url.QueryEscape(basicClient), url.QueryEscape(secret[0]))
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", endpoint, err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("decode %s answer (status %d): %v", endpoint, resp.StatusCode, err)
		}
	}
	return resp.StatusCode
}

func token(t *testing.T, p *oidcpeer.Peer, endpoint string, form url.Values, basicClient string) (int, tokenResponse) {
	t.Helper()
	var tr tokenResponse
	status := call(t, p.HTTPClient(), http.MethodPost, endpoint, form, basicClient, &tr, p.Secrets[basicClient])
	return status, tr
}

func introspect(t *testing.T, p *oidcpeer.Peer, md metadata, tok, client string) introspection {
	t.Helper()
	var in introspection
	if status := call(t, p.HTTPClient(), http.MethodPost, md.IntrospectionEndpoint, url.Values{"token": {tok}}, client, &in, p.Secrets[client]); status != http.StatusOK {
		t.Fatalf("introspection: status %d", status)
	}
	return in
}

func isJWT(s string) bool { return strings.Count(s, ".") == 2 }

func TestPeerServesDiscoveryForItsOwnIssuer(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{})
	md := discover(t, p)

	if md.Issuer != p.Issuer {
		t.Fatalf("discovery issuer = %q, want %q", md.Issuer, p.Issuer)
	}
	u, err := url.Parse(p.Issuer)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" {
		t.Fatalf("issuer %q is not http://127.0.0.1:PORT", p.Issuer)
	}
	if p.PID <= 0 {
		t.Fatalf("PID = %d", p.PID)
	}
	for _, g := range []string{"client_credentials", "authorization_code", "refresh_token",
		oidcpeer.GrantTypeDeviceCode, oidcpeer.GrantTypeJWTBearer, oidcpeer.GrantTypeTokenExchange} {
		if !slices.Contains(md.GrantTypesSupported, g) {
			t.Errorf("grant_types_supported %v lacks %s", md.GrantTypesSupported, g)
		}
	}
	if slices.Contains(md.GrantTypesSupported, "implicit") {
		t.Errorf("grant_types_supported advertises implicit")
	}
	if !md.ISSParameterSupported {
		t.Errorf("authorization_response_iss_parameter_supported is false (RFC 9207)")
	}
	if !slices.Equal(md.CodeChallengeMethods, []string{"S256"}) {
		t.Errorf("code_challenge_methods_supported = %v", md.CodeChallengeMethods)
	}
	if slices.Contains(md.AuthMethods, "tls_client_auth") {
		t.Errorf("tls_client_auth advertised without TLS mode")
	}
}

func TestClientCredentialsWithBasicAuthIsCountedWhateverTheOutcome(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 7 * time.Second})
	md := discover(t, p)
	p.Reset(t)

	status, tr := token(t, p, md.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "scope": {"api:read"}}, oidcpeer.ClientCCBasic)
	if status != http.StatusOK {
		t.Fatalf("client_credentials: status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
	}
	if tr.AccessToken == "" || isJWT(tr.AccessToken) {
		t.Errorf("access token without resource should be opaque, got %d dots", strings.Count(tr.AccessToken, "."))
	}
	if tr.ExpiresIn != 7 {
		t.Errorf("expires_in = %d, want the configured 7", tr.ExpiresIn)
	}
	if tr.RefreshToken != "" {
		t.Errorf("client_credentials issued a refresh token")
	}

	var failed tokenResponse
	status = call(t, p.HTTPClient(), http.MethodPost, md.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}}, oidcpeer.ClientCCBasic, &failed, "wrong-secret")
	if status != http.StatusUnauthorized || failed.Error != "invalid_client" {
		t.Fatalf("wrong secret: status %d error %q, want 401 invalid_client", status, failed.Error)
	}

	if got := p.Stats(t).TokenRequests["client_credentials"]; got != 2 {
		t.Fatalf("client_credentials count = %d, want 2 (one success, one failure)", got)
	}
	p.Reset(t)
	if got := p.Stats(t).TokenRequests["client_credentials"]; got != 0 {
		t.Fatalf("after reset count = %d, want 0", got)
	}
}

func signAssertion(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	s, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func parsePKCS8(t *testing.T, data []byte) crypto.Signer {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("not a PKCS#8 PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("parse pkcs8: %v", err)
	}
	return k.(crypto.Signer)
}

func randomID(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// clientAssertion builds an RFC 7523 §2.2 client authentication JWT.
func clientAssertion(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, clientID, aud string) url.Values {
	now := time.Now()
	a := signAssertion(t, alg, key, kid, jwt.Claims{
		Issuer: clientID, Subject: clientID, Audience: jwt.Audience{aud}, ID: randomID(t),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	})
	return url.Values{
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {a},
	}
}

func TestEveryClientAuthenticationMethodGetsATokenAndAWrongOneDoesNot(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{ExtraClients: []map[string]any{{
		"client_id": "extra", "client_secret": "extra-secret-0123456789abcdef0123456789",
		"token_endpoint_auth_method": "client_secret_post", "grant_types": []string{"client_credentials"},
		"response_types": []string{}, "redirect_uris": []string{},
	}}})
	md := discover(t, p)

	var es256 jose.JSONWebKey
	if err := json.Unmarshal(p.PrivateKeyJWK["ES256"], &es256); err != nil {
		t.Fatalf("decode ES256 jwk: %v", err)
	}
	if es256.IsPublic() {
		t.Fatalf("PrivateKeyJWK[ES256] holds no private key")
	}
	var rs256 jose.JSONWebKey
	if err := json.Unmarshal(p.PrivateKeyJWK["RS256"], &rs256); err != nil {
		t.Fatalf("decode RS256 jwk: %v", err)
	}
	pemFromFile, err := os.ReadFile(p.PrivateKeyFile["RS256"])
	if err != nil {
		t.Fatalf("read RS256 key file: %v", err)
	}

	tests := []struct {
		name      string
		form      func() url.Values
		basic     string
		wantError string
	}{
		{
			name: "client_secret_post sends the secret in the body",
			form: func() url.Values {
				return url.Values{"client_id": {oidcpeer.ClientCCPost}, "client_secret": {p.Secrets[oidcpeer.ClientCCPost]}}
			},
			basic: "",
		},
		{
			name: "client_secret_jwt signs with the secret (HS256)",
			form: func() url.Values {
				v := clientAssertion(t, jose.HS256, []byte(p.Secrets[oidcpeer.ClientCCSecretJWT]), "", oidcpeer.ClientCCSecretJWT, md.TokenEndpoint)
				return v
			},
		},
		{
			name: "private_key_jwt signs with the RS256 PEM key",
			form: func() url.Values {
				return clientAssertion(t, jose.RS256, parsePKCS8(t, pemFromFile), rs256.KeyID, oidcpeer.ClientCCPrivateJWT, p.Issuer)
			},
		},
		{
			name: "private_key_jwt signs with the ES256 JWK",
			form: func() url.Values {
				return clientAssertion(t, jose.ES256, es256.Key, es256.KeyID, oidcpeer.ClientCCPrivateJWT, md.TokenEndpoint)
			},
		},
		{
			name: "private_key_jwt signed by an unregistered key is refused",
			form: func() url.Values {
				other := parsePKCS8(t, p.AssertionKeyPEM)
				return clientAssertion(t, jose.ES256, other, es256.KeyID, oidcpeer.ClientCCPrivateJWT, p.Issuer)
			},
			wantError: "invalid_client",
		},
		{
			name: "an extra client from Config.ExtraClients is registered",
			form: func() url.Values {
				return url.Values{"client_id": {"extra"}, "client_secret": {"extra-secret-0123456789abcdef0123456789"}}
			},
		},
		{
			name:      "client_secret_post with a wrong secret is refused",
			form:      func() url.Values { return url.Values{"client_id": {oidcpeer.ClientCCPost}, "client_secret": {"nope"}} },
			wantError: "invalid_client",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			form := tc.form()
			form.Set("grant_type", "client_credentials")
			status, tr := token(t, p, md.TokenEndpoint, form, tc.basic)
			if tc.wantError != "" {
				if tr.Error != tc.wantError {
					t.Fatalf("status %d error %q, want %s", status, tr.Error, tc.wantError)
				}
				return
			}
			if status != http.StatusOK || tr.AccessToken == "" {
				t.Fatalf("status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
			}
		})
	}
}

func TestCallerSuppliedPrivateJWTKeysAreRegistered(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p := oidcpeer.Start(t, oidcpeer.Config{PrivateJWTKeys: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: key, Algorithm: "ES256", KeyID: "mine"},
	}}})
	md := discover(t, p)
	if _, ok := p.PrivateKeyPEM["RS256"]; ok {
		t.Errorf("a generated RS256 key was added to caller-supplied keys")
	}
	signer := parsePKCS8(t, p.PrivateKeyPEM["ES256"])
	if !key.PublicKey.Equal(signer.Public()) {
		t.Fatalf("PrivateKeyPEM[ES256] is not the supplied key")
	}
	form := clientAssertion(t, jose.ES256, key, "mine", oidcpeer.ClientCCPrivateJWT, p.Issuer)
	form.Set("grant_type", "client_credentials")
	if status, tr := token(t, p, md.TokenEndpoint, form, ""); status != http.StatusOK {
		t.Fatalf("status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
	}
}

func TestConfiguredLifetimesReachTheIssuedArtifacts(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{
		AccessTokenTTL: 3 * time.Second, RefreshTokenTTL: 11 * time.Second, DeviceCodeTTL: 13 * time.Second,
	})
	md := discover(t, p)

	var da struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
		ExpiresIn  int    `json:"expires_in"`
	}
	call(t, p.HTTPClient(), http.MethodPost, md.DeviceAuthorizationEndpoint,
		url.Values{"client_id": {oidcpeer.ClientCLIPublic}, "scope": {"openid offline_access"}}, "", &da)
	if da.ExpiresIn != 13 {
		t.Errorf("device code expires_in = %d, want 13", da.ExpiresIn)
	}
	p.ApproveDevice(t, da.UserCode)
	_, tr := token(t, p, md.TokenEndpoint, url.Values{
		"grant_type": {oidcpeer.GrantTypeDeviceCode}, "device_code": {da.DeviceCode}, "client_id": {oidcpeer.ClientCLIPublic},
	}, "")
	if tr.ExpiresIn != 3 {
		t.Errorf("access token expires_in = %d, want 3", tr.ExpiresIn)
	}
	var rt struct {
		Active bool  `json:"active"`
		Iat    int64 `json:"iat"`
		Exp    int64 `json:"exp"`
	}
	call(t, p.HTTPClient(), http.MethodPost, md.IntrospectionEndpoint, url.Values{"token": {tr.RefreshToken}},
		oidcpeer.ClientCCBasic, &rt, p.Secrets[oidcpeer.ClientCCBasic])
	if !rt.Active || rt.Exp-rt.Iat != 11 {
		t.Errorf("refresh token active %t lifetime %ds, want active for 11s", rt.Active, rt.Exp-rt.Iat)
	}

	_, jwtTok := token(t, p, md.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "resource": {oidcpeer.Resource}}, oidcpeer.ClientCCBasic)
	c := verifyAccessToken(t, p, md, jwtTok.AccessToken)
	if got := c.Expiry.Time().Sub(c.IssuedAt.Time()); got != 3*time.Second {
		t.Errorf("JWT access token lifetime %s, want 3s", got)
	}
}

func TestShortLifetimesExpireTokensAtThePeer(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: time.Second, RefreshTokenTTL: 2 * time.Second})
	md := discover(t, p)
	tr := loginWithCode(t, p, md, oidcpeer.ClientCLIConfidential, "openid offline_access")
	if in := introspect(t, p, md, tr.AccessToken, oidcpeer.ClientCCBasic); !in.Active {
		t.Fatal("fresh access token is not active")
	}

	// oidc-provider compares exp with whole seconds, so both are past after 2s.
	time.Sleep(2100 * time.Millisecond)

	if in := introspect(t, p, md, tr.AccessToken, oidcpeer.ClientCCBasic); in.Active {
		t.Errorf("access token still active after its lifetime")
	}
	status, refreshed := token(t, p, md.TokenEndpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}}, oidcpeer.ClientCLIConfidential)
	if status != http.StatusBadRequest || refreshed.Error != "invalid_grant" {
		t.Errorf("expired refresh token: status %d error %q, want 400 invalid_grant", status, refreshed.Error)
	}
}

func fetchJWKS(t *testing.T, p *oidcpeer.Peer, md metadata) jose.JSONWebKeySet {
	t.Helper()
	var set jose.JSONWebKeySet
	if status := call(t, p.HTTPClient(), http.MethodGet, md.JWKSURI, nil, "", &set); status != http.StatusOK {
		t.Fatalf("jwks: status %d", status)
	}
	return set
}

type accessTokenClaims struct {
	jwt.Claims
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
}

// verifyAccessToken checks an RFC 9068 JWT access token against the
// provider's published keys.
func verifyAccessToken(t *testing.T, p *oidcpeer.Peer, md metadata, raw string) accessTokenClaims {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatalf("parse access token: %v", err)
	}
	if typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string); typ != "at+jwt" {
		t.Errorf("typ = %q, want at+jwt (RFC 9068 §2.1)", typ)
	}
	set := fetchJWKS(t, p, md)
	keys := set.Key(tok.Headers[0].KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys at jwks_uri", tok.Headers[0].KeyID, len(keys))
	}
	var c accessTokenClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		t.Fatalf("verify access token at jwks_uri: %v", err)
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: p.Issuer, AnyAudience: jwt.Audience{oidcpeer.Resource}, Time: time.Now()}, 5*time.Second); err != nil {
		t.Fatalf("access token claims: %v", err)
	}
	return c
}

func TestAResourceTokenIsAJWTVerifiableAtJWKSURI(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{})
	md := discover(t, p)

	status, tr := token(t, p, md.TokenEndpoint, url.Values{
		"grant_type": {"client_credentials"}, "resource": {oidcpeer.Resource}, "scope": {"api:read openid"},
	}, oidcpeer.ClientCCBasic)
	if status != http.StatusOK {
		t.Fatalf("status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
	}
	if !isJWT(tr.AccessToken) {
		t.Fatalf("resource token is not a JWT")
	}
	c := verifyAccessToken(t, p, md, tr.AccessToken)
	if c.Scope != "api:read" || c.ClientID != oidcpeer.ClientCCBasic {
		t.Errorf("scope %q client_id %q, want api:read and %s", c.Scope, c.ClientID, oidcpeer.ClientCCBasic)
	}
	// oidc-provider keeps no record of JWT access tokens and refuses them at
	// both endpoints (RFC 7009 §2.2.1 unsupported_token_type).
	for _, endpoint := range []string{md.IntrospectionEndpoint, md.RevocationEndpoint} {
		var e tokenResponse
		status := call(t, p.HTTPClient(), http.MethodPost, endpoint, url.Values{"token": {tr.AccessToken}},
			oidcpeer.ClientCCBasic, &e, p.Secrets[oidcpeer.ClientCCBasic])
		if status != http.StatusBadRequest || e.Error != "unsupported_token_type" {
			t.Errorf("%s: status %d error %q, want 400 unsupported_token_type", endpoint, status, e.Error)
		}
	}
}

func TestTheDeviceFlowApprovedByApproveDeviceYieldsTokens(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{})
	md := discover(t, p)

	var da struct {
		DeviceCode      string `json:"device_code"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
	}
	status := call(t, p.HTTPClient(), http.MethodPost, md.DeviceAuthorizationEndpoint,
		url.Values{"client_id": {oidcpeer.ClientCLIPublic}, "scope": {"openid offline_access api:read"}}, "", &da)
	if status != http.StatusOK || da.DeviceCode == "" || da.UserCode == "" {
		t.Fatalf("device authorization: status %d", status)
	}
	if da.VerificationURI != p.Issuer+"/device" {
		t.Errorf("verification_uri = %q", da.VerificationURI)
	}
	poll := url.Values{"grant_type": {oidcpeer.GrantTypeDeviceCode}, "device_code": {da.DeviceCode}, "client_id": {oidcpeer.ClientCLIPublic}}

	if _, tr := token(t, p, md.TokenEndpoint, poll, ""); tr.Error != "authorization_pending" {
		t.Fatalf("before approval: error %q, want authorization_pending", tr.Error)
	}
	p.ApproveDevice(t, da.UserCode)

	status, tr := token(t, p, md.TokenEndpoint, poll, "")
	if status != http.StatusOK {
		t.Fatalf("after approval: status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
	}
	if tr.AccessToken == "" || tr.RefreshToken == "" || tr.IDToken == "" {
		t.Fatalf("want access, refresh and ID token; got access %t refresh %t id %t",
			tr.AccessToken != "", tr.RefreshToken != "", tr.IDToken != "")
	}
	if _, tr := token(t, p, md.TokenEndpoint, poll, ""); tr.Error != "invalid_grant" {
		t.Errorf("second redemption: error %q, want invalid_grant", tr.Error)
	}
}

func TestApproveDeviceRefusesAnUnknownUserCode(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{})
	if err := p.SubmitUserCode(t.Context(), "BCDF-GHJK"); err == nil {
		t.Fatal("an unknown user code was approved")
	}
}

// loopbackListener stands in for the CLI's RFC 8252 §7.3 redirect listener.
func loopbackListener(t *testing.T) (string, <-chan url.Values) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	got := make(chan url.Values, 1)
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/callback" {
				http.NotFound(w, r)
				return
			}
			select {
			case got <- r.URL.Query():
			default:
			}
			_, _ = io.WriteString(w, "signed in")
		}),
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/callback", got
}

func pkce(t *testing.T) (verifier, challenge string) {
	verifier = randomID(t) + randomID(t)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// loginWithCode runs the authorization code flow with PKCE for a CLI client
// and returns the token response.
func loginWithCode(t *testing.T, p *oidcpeer.Peer, md metadata, clientID, scope string) tokenResponse {
	t.Helper()
	redirectURI, got := loopbackListener(t)
	verifier, challenge := pkce(t)
	state := randomID(t)
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {scope}, "state": {state}, "nonce": {randomID(t)},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	p.Authorize(t, md.AuthorizationEndpoint+"?"+q.Encode())

	var cb url.Values
	select {
	case cb = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("the loopback listener received no redirect")
	}
	if cb.Get("error") != "" {
		t.Fatalf("authorization error %q: %s", cb.Get("error"), cb.Get("error_description"))
	}
	if cb.Get("state") != state {
		t.Fatalf("state mismatch")
	}
	if cb.Get("iss") != p.Issuer {
		t.Fatalf("iss = %q, want %q (RFC 9207)", cb.Get("iss"), p.Issuer)
	}
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {cb.Get("code")},
		"redirect_uri": {redirectURI}, "code_verifier": {verifier},
	}
	basic := ""
	if _, ok := p.Secrets[clientID]; ok {
		basic = clientID
	} else {
		form.Set("client_id", clientID)
	}
	status, tr := token(t, p, md.TokenEndpoint, form, basic)
	if status != http.StatusOK {
		t.Fatalf("code exchange: status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
	}
	return tr
}

func TestAuthorizationCodeWithPKCEReachesTheLoopbackListenerOnAnyPort(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{})
	md := discover(t, p)
	for _, client := range []string{oidcpeer.ClientCLIPublic, oidcpeer.ClientCLIConfidential} {
		t.Run(client, func(t *testing.T) {
			tr := loginWithCode(t, p, md, client, "openid offline_access profile")
			if tr.AccessToken == "" || tr.IDToken == "" || tr.RefreshToken == "" {
				t.Fatalf("want access, ID and refresh token; got access %t id %t refresh %t",
					tr.AccessToken != "", tr.IDToken != "", tr.RefreshToken != "")
			}
			if in := introspect(t, p, md, tr.AccessToken, oidcpeer.ClientCCBasic); !in.Active || in.Sub != oidcpeer.AccountID {
				t.Errorf("introspection active %t sub %q, want active for %s", in.Active, in.Sub, oidcpeer.AccountID)
			}
		})
	}
}

func TestAuthorizationWithoutPKCEIsRefused(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{})
	md := discover(t, p)
	redirectURI, got := loopbackListener(t)
	q := url.Values{
		"response_type": {"code"}, "client_id": {oidcpeer.ClientCLIConfidential},
		"redirect_uri": {redirectURI}, "scope": {"openid"}, "state": {"s"},
	}
	p.Authorize(t, md.AuthorizationEndpoint+"?"+q.Encode())
	select {
	case cb := <-got:
		if cb.Get("error") != "invalid_request" || cb.Get("code") != "" {
			t.Fatalf("error %q code present %t, want invalid_request without a code", cb.Get("error"), cb.Get("code") != "")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the loopback listener received no redirect")
	}
}

func TestReusingARotatedRefreshTokenRevokesTheWholeGrant(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{})
	md := discover(t, p)
	first := loginWithCode(t, p, md, oidcpeer.ClientCLIPublic, "openid offline_access")
	refresh := func(rt string) (int, tokenResponse) {
		return token(t, p, md.TokenEndpoint, url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {oidcpeer.ClientCLIPublic},
		}, "")
	}

	status, second := refresh(first.RefreshToken)
	if status != http.StatusOK {
		t.Fatalf("first refresh: status %d, %s: %s", status, second.Error, second.ErrorDescription)
	}
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh token was not rotated")
	}

	p.Reset(t)
	if _, replay := refresh(first.RefreshToken); replay.Error != "invalid_grant" {
		t.Fatalf("replayed refresh token: error %q, want invalid_grant", replay.Error)
	}
	if _, after := refresh(second.RefreshToken); after.Error != "invalid_grant" {
		t.Fatalf("rotated refresh token after reuse: error %q, want invalid_grant (grant revoked)", after.Error)
	}
	if in := introspect(t, p, md, second.AccessToken, oidcpeer.ClientCCBasic); in.Active {
		t.Errorf("access token of the revoked grant is still active")
	}
	s := p.Stats(t)
	if s.TokenRequests["refresh_token"] != 2 || s.GrantsRevoked != 1 || s.Introspections != 1 {
		t.Fatalf("stats %+v, want 2 refresh_token requests, 1 grant revoked, 1 introspection", s)
	}
}

func TestRevocationOfAnOpaqueAccessTokenIsCounted(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{})
	md := discover(t, p)
	_, tr := token(t, p, md.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}}, oidcpeer.ClientCCBasic)
	p.Reset(t)
	status := call(t, p.HTTPClient(), http.MethodPost, md.RevocationEndpoint,
		url.Values{"token": {tr.AccessToken}, "token_type_hint": {"access_token"}}, oidcpeer.ClientCCBasic, nil, p.Secrets[oidcpeer.ClientCCBasic])
	if status != http.StatusOK {
		t.Fatalf("revocation: status %d", status)
	}
	if in := introspect(t, p, md, tr.AccessToken, oidcpeer.ClientCCBasic); in.Active {
		t.Fatalf("revoked token is still active")
	}
	if s := p.Stats(t); s.Revocations != 1 || s.Introspections != 1 {
		t.Fatalf("stats %+v, want 1 revocation and 1 introspection", s)
	}
}

func bearerAssertion(t *testing.T, p *oidcpeer.Peer, mutate func(*jwt.Claims)) string {
	t.Helper()
	now := time.Now()
	c := jwt.Claims{
		Issuer: oidcpeer.AssertionIssuer, Subject: oidcpeer.AccountID, Audience: jwt.Audience{p.Issuer},
		ID: randomID(t), IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	}
	if mutate != nil {
		mutate(&c)
	}
	return signAssertion(t, jose.ES256, parsePKCS8(t, p.AssertionKeyPEM), p.AssertionKeyID, c)
}

func TestTheJWTBearerGrantIssuesATokenOnlyForAValidAssertion(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{})
	md := discover(t, p)
	grant := func(assertion string, extra url.Values) (int, tokenResponse) {
		form := url.Values{"grant_type": {oidcpeer.GrantTypeJWTBearer}, "assertion": {assertion}}
		for k, v := range extra {
			form[k] = v
		}
		return token(t, p, md.TokenEndpoint, form, oidcpeer.ClientExchanger)
	}

	status, tr := grant(bearerAssertion(t, p, nil), url.Values{"scope": {"profile"}})
	if status != http.StatusOK {
		t.Fatalf("valid assertion: status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
	}
	in := introspect(t, p, md, tr.AccessToken, oidcpeer.ClientExchanger)
	if !in.Active || in.Sub != oidcpeer.AccountID || in.ClientID != oidcpeer.ClientExchanger || in.Scope != "profile" {
		t.Fatalf("introspection %+v, want active for %s via %s with scope profile", in, oidcpeer.AccountID, oidcpeer.ClientExchanger)
	}

	status, tr = grant(bearerAssertion(t, p, func(c *jwt.Claims) { c.Audience = jwt.Audience{md.TokenEndpoint} }),
		url.Values{"resource": {oidcpeer.Resource}, "scope": {"api:write"}})
	if status != http.StatusOK {
		t.Fatalf("token endpoint audience with resource: status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
	}
	if c := verifyAccessToken(t, p, md, tr.AccessToken); c.Subject != oidcpeer.AccountID || c.Scope != "api:write" {
		t.Errorf("resource token sub %q scope %q", c.Subject, c.Scope)
	}

	replayed := bearerAssertion(t, p, nil)
	if status, _ := grant(replayed, nil); status != http.StatusOK {
		t.Fatalf("first use of an assertion: status %d", status)
	}

	refused := []struct {
		name      string
		assertion string
	}{
		{"an untrusted issuer", bearerAssertion(t, p, func(c *jwt.Claims) { c.Issuer = "someone-else" })},
		{"another audience", bearerAssertion(t, p, func(c *jwt.Claims) { c.Audience = jwt.Audience{"https://elsewhere.test"} })},
		{"an expired assertion", bearerAssertion(t, p, func(c *jwt.Claims) { c.Expiry = jwt.NewNumericDate(time.Now().Add(-time.Minute)) })},
		{"no expiry", bearerAssertion(t, p, func(c *jwt.Claims) { c.Expiry = nil })},
		{"an unknown subject", bearerAssertion(t, p, func(c *jwt.Claims) { c.Subject = "nobody" })},
		{"a replayed jti", replayed},
		{"a foreign signing key", func() string {
			now := time.Now()
			_, other := pkce(t)
			return signAssertion(t, jose.HS256, []byte(other), p.AssertionKeyID, jwt.Claims{
				Issuer: oidcpeer.AssertionIssuer, Subject: oidcpeer.AccountID, Audience: jwt.Audience{p.Issuer},
				Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
			})
		}()},
	}
	for _, tc := range refused {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			if status, tr := grant(tc.assertion, nil); status != http.StatusBadRequest || tr.Error != "invalid_grant" {
				t.Fatalf("status %d error %q, want 400 invalid_grant (RFC 7523 §3.1)", status, tr.Error)
			}
		})
	}
}

func TestTokenExchangeSwapsAnIssuedAccessTokenForOneAtTheRequestedTarget(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{})
	md := discover(t, p)

	_, ccOpaque := token(t, p, md.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}}, oidcpeer.ClientCCBasic)
	_, ccJWT := token(t, p, md.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "resource": {oidcpeer.Resource}}, oidcpeer.ClientCCBasic)
	_, user := token(t, p, md.TokenEndpoint, url.Values{
		"grant_type": {oidcpeer.GrantTypeJWTBearer}, "assertion": {bearerAssertion(t, p, nil)}, "scope": {"profile"},
	}, oidcpeer.ClientExchanger)
	if ccOpaque.AccessToken == "" || ccJWT.AccessToken == "" || user.AccessToken == "" {
		t.Fatal("could not obtain the subject tokens")
	}

	exchange := func(subject string, extra url.Values) (int, tokenResponse) {
		form := url.Values{
			"grant_type":    {oidcpeer.GrantTypeTokenExchange},
			"subject_token": {subject}, "subject_token_type": {oidcpeer.TokenTypeAccessToken},
		}
		for k, v := range extra {
			form[k] = v
		}
		return token(t, p, md.TokenEndpoint, form, oidcpeer.ClientExchanger)
	}

	t.Run("an opaque client token for the resource audience", func(t *testing.T) {
		status, tr := exchange(ccOpaque.AccessToken, url.Values{"audience": {oidcpeer.Resource}, "scope": {"api:read"}})
		if status != http.StatusOK {
			t.Fatalf("status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
		}
		if tr.IssuedTokenType != oidcpeer.TokenTypeAccessToken {
			t.Errorf("issued_token_type = %q (RFC 8693 §2.2.1)", tr.IssuedTokenType)
		}
		if c := verifyAccessToken(t, p, md, tr.AccessToken); c.Scope != "api:read" || c.ClientID != oidcpeer.ClientExchanger {
			t.Errorf("scope %q client_id %q", c.Scope, c.ClientID)
		}
	})
	t.Run("a JWT client token for the resource", func(t *testing.T) {
		if status, tr := exchange(ccJWT.AccessToken, url.Values{"resource": {oidcpeer.Resource}}); status != http.StatusOK {
			t.Fatalf("status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
		}
	})
	t.Run("a user token keeps its subject", func(t *testing.T) {
		status, tr := exchange(user.AccessToken, url.Values{"scope": {"openid profile"}})
		if status != http.StatusOK {
			t.Fatalf("status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
		}
		if isJWT(tr.AccessToken) {
			t.Errorf("token without a target should be opaque")
		}
		if in := introspect(t, p, md, tr.AccessToken, oidcpeer.ClientExchanger); !in.Active || in.Sub != oidcpeer.AccountID {
			t.Errorf("introspection %+v, want active for %s", in, oidcpeer.AccountID)
		}
	})

	refused := []struct {
		name, subject string
		extra         url.Values
		wantError     string
	}{
		{"an unknown subject token", "not-a-token", nil, "invalid_request"},
		{"an unsupported subject_token_type", ccOpaque.AccessToken, url.Values{"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"}}, "invalid_request"},
		{"an unknown audience", ccOpaque.AccessToken, url.Values{"audience": {"https://unknown.test"}}, "invalid_target"},
	}
	for _, tc := range refused {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			if status, tr := exchange(tc.subject, tc.extra); status != http.StatusBadRequest || tr.Error != tc.wantError {
				t.Fatalf("status %d error %q, want 400 %s (RFC 8693 §2.2.2)", status, tr.Error, tc.wantError)
			}
		})
	}
}

func TestTLSModeAuthenticatesTLSClientByItsCertificate(t *testing.T) {
	p := oidcpeer.Start(t, oidcpeer.Config{TLS: true})
	if !strings.HasPrefix(p.Issuer, "https://127.0.0.1:") {
		t.Fatalf("issuer %q is not https://127.0.0.1:PORT", p.Issuer)
	}
	md := discover(t, p)
	if !slices.Contains(md.AuthMethods, "tls_client_auth") {
		t.Fatalf("token_endpoint_auth_methods_supported %v lacks tls_client_auth", md.AuthMethods)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {oidcpeer.ClientTLS}}

	var tr tokenResponse
	if status := call(t, p.TLSClientHTTPClient(t), http.MethodPost, md.TokenEndpoint, form, "", &tr); status != http.StatusOK {
		t.Fatalf("with the client certificate: status %d, %s: %s", status, tr.Error, tr.ErrorDescription)
	}
	tr = tokenResponse{}
	if status := call(t, p.HTTPClient(), http.MethodPost, md.TokenEndpoint, form, "", &tr); status != http.StatusUnauthorized || tr.Error != "invalid_client" {
		t.Fatalf("without a certificate: status %d error %q, want 401 invalid_client", status, tr.Error)
	}
	if _, basic := token(t, p, md.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}}, oidcpeer.ClientCCBasic); basic.AccessToken == "" {
		t.Fatalf("secret clients should still work over TLS: %s", basic.Error)
	}
	if tr := loginWithCode(t, p, md, oidcpeer.ClientCLIPublic, "openid"); tr.AccessToken == "" {
		t.Fatal("the code flow over TLS issued no access token")
	}
}

func TestThePeerProcessIsGoneAfterCleanup(t *testing.T) {
	var pid int
	var issuer string
	t.Run("peer", func(t *testing.T) {
		p := oidcpeer.Start(t, oidcpeer.Config{})
		pid, issuer = p.PID, p.Issuer
	})
	if pid == 0 {
		t.Fatal("peer did not start")
	}
	if proc, err := os.FindProcess(pid); err == nil {
		if err := proc.Signal(syscall.Signal(0)); err == nil {
			t.Fatalf("pid %d still runs after cleanup", pid)
		} else if !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH) {
			t.Logf("signal 0 to pid %d: %v", pid, err)
		}
	}
	u, err := url.Parse(issuer)
	if err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		_ = conn.Close()
		t.Fatalf("%s still accepts connections", u.Host)
	}
}
