package sandbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// startSandbox starts a sandbox that is closed when the test ends.
func startSandbox(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// httpClient never follows redirects, so the authorization response can be read.
func httpClient() *http.Client {
	return &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
}

func (r response) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// post sends form to path; user and pass, when user is not empty, go in HTTP Basic.
func post(t *testing.T, s *Server, path string, form url.Values, user, pass string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.Issuer()+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return do(t, req)
}

func get(t *testing.T, s *Server, path, bearer string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.Issuer()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := httpClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", req.URL.Path, err)
	}
	out := response{status: resp.StatusCode, header: resp.Header}
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &out.body); err != nil {
			t.Fatalf("decode %s response %q: %v", req.URL.Path, raw, err)
		}
	}
	return out
}

func secretOf(t *testing.T, s *Server, id string) string {
	t.Helper()
	c, ok := s.Client(id)
	if !ok {
		t.Fatalf("no client %q", id)
	}
	return c.Secret
}

func clientCredentials(t *testing.T, s *Server, scope string) response {
	t.Helper()
	r := post(t, s, PathToken, url.Values{"grant_type": {"client_credentials"}, "scope": {scope}},
		ServiceClientID, secretOf(t, s, ServiceClientID))
	if r.status != http.StatusOK {
		t.Fatalf("client_credentials: status %d, body %v", r.status, r.body)
	}
	return r
}

type pkcePair struct{ verifier, challenge string }

func newPKCE(t *testing.T) pkcePair {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return pkcePair{verifier: v, challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// loopbackRedirect returns a loopback callback URI on a port the OS chose, as a native
// client would (RFC 8252 §7.3). Nothing needs to listen there: redirects are not followed.
func loopbackRedirect(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprintf("http://%s/callback", ln.Addr())
}

type authRequest struct {
	clientID, redirectURI, scope, state, nonce string
	pkce                                       pkcePair
	method                                     string // code_challenge_method; S256 when empty
	omitChallenge                              bool
	extra                                      url.Values // more parameters
}

func newAuthRequest(t *testing.T, clientID, scope string) authRequest {
	t.Helper()
	return authRequest{
		clientID:    clientID,
		redirectURI: loopbackRedirect(t),
		scope:       scope,
		state:       "state-" + newPKCE(t).verifier[:12],
		nonce:       "nonce-" + newPKCE(t).verifier[:12],
		pkce:        newPKCE(t),
	}
}

// authorize sends the authorization request and follows the redirects that stay at the
// sandbox (op's login step and its callback). It returns the first response that does
// not: the authorization response to the client, whose Location is not followed, or
// an error.
func authorize(t *testing.T, s *Server, a authRequest) *http.Response {
	t.Helper()
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {a.clientID},
		"redirect_uri":  {a.redirectURI},
		"scope":         {a.scope},
		"state":         {a.state},
	}
	if a.nonce != "" {
		q.Set("nonce", a.nonce)
	}
	if !a.omitChallenge {
		q.Set("code_challenge", a.pkce.challenge)
		method := a.method
		if method == "" {
			method = "S256"
		}
		q.Set("code_challenge_method", method)
	}
	for k, v := range a.extra {
		q[k] = v
	}
	next := s.Issuer() + PathAuthorize + "?" + q.Encode()
	for range 5 {
		resp, err := httpClient().Get(next)
		if err != nil {
			t.Fatalf("authorize: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		next = resp.Header.Get("Location")
		if resp.StatusCode < 300 || resp.StatusCode >= 400 || !strings.HasPrefix(next, s.Issuer()+"/") {
			return resp
		}
	}
	t.Fatal("authorize: more than 5 redirects within the sandbox")
	return nil
}

// authorizeCode runs the authorization request and returns the code, after checking
// that the redirect went to the requested loopback URI.
func authorizeCode(t *testing.T, s *Server, a authRequest) string {
	t.Helper()
	resp := authorize(t, s, a)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: status %d, want a redirect", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("authorize: Location: %v", err)
	}
	if e := loc.Query().Get("error"); e != "" {
		t.Fatalf("authorize: error %q: %s", e, loc.Query().Get("error_description"))
	}
	code := loc.Query().Get("code")
	if code == "" {
		t.Fatalf("authorize: no code in %s", loc.Redacted())
	}
	return code
}

func exchangeCode(t *testing.T, s *Server, a authRequest, code, verifier string) response {
	t.Helper()
	form := url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {a.redirectURI},
		"code_verifier": {verifier},
	}
	secret := ""
	if c, _ := s.Client(a.clientID); c.Secret != "" {
		secret = c.Secret
	} else {
		form.Set("client_id", a.clientID)
	}
	if secret != "" {
		return post(t, s, PathToken, form, a.clientID, secret)
	}
	return post(t, s, PathToken, form, "", "")
}

// login runs authorization code + PKCE to the end and returns the token response.
func login(t *testing.T, s *Server, clientID, scope string) response {
	t.Helper()
	a := newAuthRequest(t, clientID, scope)
	r := exchangeCode(t, s, a, authorizeCode(t, s, a), a.pkce.verifier)
	if r.status != http.StatusOK {
		t.Fatalf("code exchange: status %d, body %v", r.status, r.body)
	}
	return r
}

// refresh sends a refresh_token grant, authenticated as clientID requires.
func refresh(t *testing.T, s *Server, clientID, refreshToken string) response {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if c, _ := s.Client(clientID); c.Secret != "" {
		return post(t, s, PathToken, form, clientID, c.Secret)
	}
	form.Set("client_id", clientID)
	return post(t, s, PathToken, form, "", "")
}

func introspect(t *testing.T, s *Server, token string) response {
	t.Helper()
	r := post(t, s, PathIntrospect, url.Values{"token": {token}}, ServiceClientID, secretOf(t, s, ServiceClientID))
	if r.status != http.StatusOK {
		t.Fatalf("introspect: status %d, body %v", r.status, r.body)
	}
	return r
}

func fetchJWKS(t *testing.T, s *Server) jose.JSONWebKeySet {
	t.Helper()
	resp, err := httpClient().Get(s.Issuer() + PathJWKS)
	if err != nil {
		t.Fatalf("jwks: %v", err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decode jwks: %v", err)
	}
	return set
}

type verifiedJWT struct {
	kid, typ string
	claims   map[string]any
}

// verifyJWT checks an RS256 signature against the published JWKS, selecting the key
// by kid, and returns header and claims.
func verifyJWT(t *testing.T, set jose.JSONWebKeySet, raw string) verifiedJWT {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("parse jwt: %v", err)
	}
	kid := tok.Headers[0].KeyID
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("jwks has %d keys with kid %q, want 1", len(keys), kid)
	}
	var claims map[string]any
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("verify jwt against jwks: %v", err)
	}
	typ, _ := tok.Headers[0].ExtraHeaders[jose.HeaderType].(string)
	return verifiedJWT{kid: kid, typ: typ, claims: claims}
}

func numClaim(t *testing.T, claims map[string]any, name string) int64 {
	t.Helper()
	f, ok := claims[name].(float64)
	if !ok {
		t.Fatalf("claim %q = %v, want a number", name, claims[name])
	}
	return int64(f)
}
