package e2e

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
	"github.com/idpctl/idpctl/internal/sandbox"
)

// tokenJSON is `token get -o json`.
type tokenJSON struct {
	AccessToken          string          `json:"access_token"`
	TokenType            string          `json:"token_type"`
	Source               string          `json:"source"`
	DPoPJkt              string          `json:"dpop_jkt"`
	AuthorizationDetails json.RawMessage `json:"authorization_details"`
}

func getTokenJSON(t testing.TB, e *Env, args ...string) tokenJSON {
	t.Helper()
	r := mustRun(t, e, "", append([]string{"token", "get", "-o", "json"}, args...)...)
	var tj tokenJSON
	if err := json.Unmarshal([]byte(r.Stdout), &tj); err != nil {
		t.Fatalf("token get -o json: %v\n%s", err, r)
	}
	e.Secret(tj.AccessToken)
	return tj
}

// proofKey checks a DPoP proof printed by `token proof` the way a resource
// server does (RFC 9449 §4.3): typ, the embedded public key verifies the
// signature, htm and htu, and ath for the token. It returns the thumbprint of
// that key, computed here and not taken from idpctl.
func proofKey(t testing.TB, proof, method, url, accessToken string) string {
	t.Helper()
	jws, err := gojose.ParseSigned(proof, []gojose.SignatureAlgorithm{gojose.ES256})
	if err != nil {
		t.Fatalf("the proof is not an ES256 JWS: %v", err)
	}
	h := jws.Signatures[0].Protected
	if h.ExtraHeaders["typ"] != "dpop+jwt" {
		t.Errorf("proof typ %v, want dpop+jwt", h.ExtraHeaders["typ"])
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		t.Fatal("the proof carries no public jwk")
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatalf("the proof does not verify with its own key: %v", err)
	}
	var c struct {
		Jti, Htm, Htu, Ath string
		Iat                int64
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(accessToken))
	if c.Htm != method || c.Htu != url || c.Jti == "" || c.Iat == 0 || c.Ath != base64.RawURLEncoding.EncodeToString(sum[:]) {
		t.Errorf("proof claims %+v do not fit %s %s and the token", c, method, url)
	}
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

func introspectCached(t testing.TB, e *Env, args ...string) inspectReport {
	t.Helper()
	r := mustRun(t, e, "", append([]string{"token", "inspect", "--introspect", "-o", "json"}, args...)...)
	var rep inspectReport
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("token inspect -o json: %v\n%s", err, r)
	}
	return rep
}

func cnfJkt(m map[string]any) string {
	cnf, _ := m["cnf"].(map[string]any)
	s, _ := cnf["jkt"].(string)
	return s
}

func TestDPoPTokenGetBindsTheTokenToTheProfileKeyAtOIDCProvider(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCCBasic)

	tj := getTokenJSON(t, e, "--dpop")
	if tj.TokenType != "DPoP" || tj.DPoPJkt == "" {
		t.Fatalf("token_type %q dpop_jkt %q, want a DPoP-bound token", tj.TokenType, tj.DPoPJkt)
	}
	tokenURL := p.Issuer + "/token"
	proof := tokenLine(t, mustRun(t, e, "", "token", "proof", "--method", "GET", "--url", tokenURL+"?x=1#f"))
	jkt := proofKey(t, proof, "GET", tokenURL, tj.AccessToken)

	rep := introspectCached(t, e, "--dpop")
	if rep.Introspection["active"] != true || rep.Introspection["token_type"] != "DPoP" {
		t.Fatalf("the IdP does not hold the token for an active DPoP token: %v", rep.Introspection)
	}
	if got := cnfJkt(rep.Introspection); got != jkt || tj.DPoPJkt != jkt {
		t.Errorf("cnf.jkt at the IdP %q, reported %q, the proof key's thumbprint %q: want all equal", got, tj.DPoPJkt, jkt)
	}

	t.Run("the cache serves the bound token without contacting the IdP", func(t *testing.T) {
		before := totalTokenRequests(p.Stats(t))
		again := getTokenJSON(t, e, "--dpop")
		if again.AccessToken != tj.AccessToken || again.Source != "cache" {
			t.Errorf("second token get: source %q, same token %v", again.Source, again.AccessToken == tj.AccessToken)
		}
		if n := totalTokenRequests(p.Stats(t)) - before; n != 0 {
			t.Errorf("%d token requests for a cached token", n)
		}
	})

	t.Run("-o header names the DPoP scheme", func(t *testing.T) {
		r := mustRun(t, e, "", "token", "get", "-o", "header")
		if r.Stdout != "Authorization: DPoP "+tj.AccessToken+"\n" {
			t.Errorf("header output %q", strings.ReplaceAll(r.Stdout, tj.AccessToken, "<token>"))
		}
	})

	t.Run("a JWT access token carries the same cnf.jkt", func(t *testing.T) {
		jwt := getTokenJSON(t, e.WithNewProfile(t), "--dpop", "--resource", oidcpeer.Resource)
		c := claims(t, jwt.AccessToken)
		if cnfJkt(c) == "" || cnfJkt(c) != jwt.DPoPJkt {
			t.Errorf("cnf.jkt %q, reported %q", cnfJkt(c), jwt.DPoPJkt)
		}
	})

	t.Run("without --dpop the token is Bearer and not served for --dpop", func(t *testing.T) {
		e2 := e.WithNewProfile(t)
		plain := getTokenJSON(t, e2)
		if plain.TokenType != "Bearer" || plain.DPoPJkt != "" {
			t.Fatalf("token_type %q dpop_jkt %q without --dpop", plain.TokenType, plain.DPoPJkt)
		}
		bound := getTokenJSON(t, e2, "--dpop")
		if bound.Source == "cache" || bound.TokenType != "DPoP" {
			t.Errorf("--dpop got source %q type %q: a Bearer token was served", bound.Source, bound.TokenType)
		}
	})
}

func TestDPoPIsUsedWhenTheClientRequiresIt(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	e := peerEnv(t, p, oidcpeer.ClientCCDPoP)

	tj := getTokenJSON(t, e)
	if tj.TokenType != "DPoP" || tj.DPoPJkt == "" {
		t.Fatalf("token_type %q: the client requires DPoP-bound tokens", tj.TokenType)
	}
	// One refusal without a proof, then the request with one.
	if n := tokenCount(t, p, "client_credentials"); n != 2 {
		t.Errorf("the peer counted %d client_credentials requests, want 2", n)
	}
}

func TestDPoPNonceIsRetriedOnceAndALoopIsAnError(t *testing.T) {
	t.Parallel()
	t.Run("the nonce the IdP demands is used", func(t *testing.T) {
		t.Parallel()
		p := oidcpeer.Start(t, oidcpeer.Config{DPoPNonce: true})
		e := peerEnv(t, p, oidcpeer.ClientCCBasic)
		tj := getTokenJSON(t, e, "--dpop")
		if tj.TokenType != "DPoP" {
			t.Fatalf("token_type %q", tj.TokenType)
		}
		if n := tokenCount(t, p, "client_credentials"); n != 2 {
			t.Errorf("the peer counted %d client_credentials requests, want 2 (use_dpop_nonce, then the retry)", n)
		}
		rep := introspectCached(t, e, "--dpop")
		if rep.Introspection["active"] != true {
			t.Errorf("the token is not active: %v", rep.Introspection)
		}
	})
	t.Run("a nonce demanded again ends with exit 4", func(t *testing.T) {
		t.Parallel()
		p := oidcpeer.Start(t, oidcpeer.Config{DPoPNonceLoop: true})
		e := peerEnv(t, p, oidcpeer.ClientCCBasic)
		r := wantExit(t, e, 4, "", "token", "get", "--dpop")
		if !strings.Contains(r.Stderr, "nonce") || !strings.Contains(r.Stderr, "giving up") {
			t.Errorf("the error does not explain the nonce loop:\n%s", r.Stderr)
		}
		if n := tokenCount(t, p, "client_credentials"); n != 2 {
			t.Errorf("the peer counted %d client_credentials requests, want exactly 2", n)
		}
	})
}

func TestDPoPLoginRefreshRevokeAndAResourceRequest(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCLIDPoP).Set("IDPCTL_SCOPES", loginScopes).Set("IDPCTL_CLIENT_AUTH_METHOD", "none")

	authURL := login(t, e, p.FollowAuthorization, "--dpop", "--scope", loginScopes)
	if authURL.Query().Get("dpop_jkt") == "" {
		t.Error("the authorization request does not bind the code with dpop_jkt (RFC 9449 §10)")
	}
	first := getTokenJSON(t, e)
	if first.TokenType != "DPoP" || first.Source != "cache" || first.DPoPJkt != authURL.Query().Get("dpop_jkt") {
		t.Fatalf("after login: type %q source %q jkt %q (dpop_jkt %q)", first.TokenType, first.Source, first.DPoPJkt, authURL.Query().Get("dpop_jkt"))
	}

	t.Run("refresh keeps the binding", func(t *testing.T) {
		if rep := refreshJSON(t, e); rep.Status != "refreshed" {
			t.Fatalf("refresh status %q", rep.Status)
		}
		next := getTokenJSON(t, e)
		if next.AccessToken == first.AccessToken || next.TokenType != "DPoP" || next.DPoPJkt != first.DPoPJkt {
			t.Errorf("after refresh: new token %v, type %q, jkt %q want %q", next.AccessToken != first.AccessToken, next.TokenType, next.DPoPJkt, first.DPoPJkt)
		}
		rep := introspectCached(t, e)
		if rep.Introspection["active"] != true || cnfJkt(rep.Introspection) != first.DPoPJkt {
			t.Errorf("the refreshed token at the IdP: %v", rep.Introspection)
		}
	})

	t.Run("token proof makes the userinfo request work", func(t *testing.T) {
		userinfo := discoveryField(t, p, "userinfo_endpoint")
		tok := getToken(t, e)
		call := func(proofURL string) int {
			proof := tokenLine(t, mustRun(t, e, "", "token", "proof", "--method", "GET", "--url", proofURL))
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, userinfo, nil)
			req.Header.Set("Authorization", "DPoP "+tok)
			req.Header.Set("DPoP", proof)
			resp, err := p.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				var c map[string]any
				_ = json.NewDecoder(resp.Body).Decode(&c)
				if c["sub"] != oidcpeer.AccountID {
					t.Errorf("userinfo sub %v", c["sub"])
				}
			}
			return resp.StatusCode
		}
		if code := call(userinfo); code != http.StatusOK {
			t.Errorf("userinfo with the proof answered %d, want 200", code)
		}
		if code := call(p.Issuer + "/elsewhere"); code != http.StatusUnauthorized {
			t.Errorf("userinfo with a proof for another URL answered %d, want 401", code)
		}
	})

	t.Run("revoke ends the bound tokens", func(t *testing.T) {
		tok := getToken(t, e)
		mustRun(t, e, "", "token", "revoke", "--dpop")
		rep, _ := inspectJSON(t, e, tok, "--introspect")
		if rep.Introspection["active"] != false {
			t.Errorf("the access token is still active after revoke: %v", rep.Introspection)
		}
	})
}

func discoveryField(t testing.TB, p *oidcpeer.Peer, name string) string {
	t.Helper()
	resp, err := p.HTTPClient().Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var md map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&md); err != nil {
		t.Fatal(err)
	}
	s, _ := md[name].(string)
	if s == "" {
		t.Fatalf("discovery has no %s", name)
	}
	return s
}

// storedItem reads one item of the file credential store of e.
func storedItem(t testing.TB, e *Env, kind string) []byte {
	t.Helper()
	raw := mustRead(t, e.Get("XDG_STATE_HOME")+"/idpctl/credentials.json")
	var doc struct {
		Items map[string][]byte `json:"items"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	item, ok := doc.Items[e.Get("IDPCTL_PROFILE")+":"+kind]
	if !ok {
		t.Fatalf("the store holds no %s item", kind)
	}
	return item
}

func TestTheDPoPPrivateKeyStaysInTheStore(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{DPoPNonce: true})
	e := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "file")

	first := mustRun(t, e, "", "token", "get", "--dpop", "--debug")
	e.Secret(strings.TrimSpace(first.Stdout))
	var key map[string]any
	if err := json.Unmarshal(storedItem(t, e, "dpop_key"), &key); err != nil {
		t.Fatal(err)
	}
	d, _ := key["d"].(string)
	if d == "" || key["crv"] != "P-256" {
		t.Fatalf("the stored DPoP key is not a private P-256 JWK: crv %v", key["crv"])
	}
	e.Secret(d)
	runs := []Result{
		first,
		mustRun(t, e, "", "token", "get", "--dpop", "--no-cache", "--debug"),
		mustRun(t, e, "", "token", "proof", "--method", "POST", "--url", p.Issuer+"/token", "--debug"),
		mustRun(t, e, "", "token", "inspect", "--introspect", "--dpop", "--debug", "-o", "json"),
		mustRun(t, e, "", "token", "revoke", "--dpop", "--debug"),
	}
	for _, r := range runs {
		if strings.Contains(r.Stdout+r.Stderr, d) {
			t.Errorf("the DPoP private key shows in the output of %s", strings.Join(r.Args, " "))
		}
	}
	if !strings.Contains(strings.ToLower(first.Stderr), "dpop: [redacted]") {
		t.Errorf("the --debug trace shows no masked DPoP header:\n%s", first.Stderr)
	}
}

func TestLoginUsesDPoPWhenTheClientRequiresIt(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	e := peerEnv(t, p, oidcpeer.ClientCLIDPoP).Set("IDPCTL_SCOPES", loginScopes).Set("IDPCTL_CLIENT_AUTH_METHOD", "none")
	login(t, e, p.FollowAuthorization, "--scope", loginScopes)
	tj := getTokenJSON(t, e)
	if tj.TokenType != "DPoP" || tj.DPoPJkt == "" {
		t.Fatalf("after a login without --dpop: token_type %q", tj.TokenType)
	}
	// The refresh token is bound too: refreshing proves the same key.
	if rep := refreshJSON(t, e); rep.Status != "refreshed" {
		t.Fatalf("refresh: %q", rep.Status)
	}
	if again := getTokenJSON(t, e); again.DPoPJkt != tj.DPoPJkt || again.AccessToken == tj.AccessToken {
		t.Errorf("after refresh: jkt %q want %q", again.DPoPJkt, tj.DPoPJkt)
	}
}

// dropStoredItem removes one item from the file credential store of e, as a
// lost or replaced key would.
func dropStoredItem(t testing.TB, e *Env, kind string) {
	t.Helper()
	path := e.Get("XDG_STATE_HOME") + "/idpctl/credentials.json"
	var doc map[string]any
	if err := json.Unmarshal(mustRead(t, path), &doc); err != nil {
		t.Fatal(err)
	}
	items, _ := doc["items"].(map[string]any)
	delete(items, e.Get("IDPCTL_PROFILE")+":"+kind)
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestABoundTokenIsNotServedOnceItsKeyIsGoneAndLogoutRemovesTheKey(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "file")

	first := getTokenJSON(t, e, "--dpop")
	dropStoredItem(t, e, "dpop_key")
	before := tokenCount(t, p, "client_credentials")
	second := getTokenJSON(t, e)
	if second.Source == "cache" || second.AccessToken == first.AccessToken {
		t.Fatal("the token bound to the lost key was served from the cache")
	}
	// This client does not require DPoP: without --dpop the new token is
	// Bearer, and says so.
	if second.TokenType != "Bearer" || second.DPoPJkt != "" || tokenCount(t, p, "client_credentials")-before != 1 {
		t.Errorf("the new token: type %q jkt %q", second.TokenType, second.DPoPJkt)
	}
	third := getTokenJSON(t, e, "--dpop")
	if third.TokenType != "DPoP" || third.DPoPJkt == "" || third.DPoPJkt == first.DPoPJkt {
		t.Errorf("with a new key: type %q, jkt %q (the lost key's %q)", third.TokenType, third.DPoPJkt, first.DPoPJkt)
	}

	mustRun(t, e, "", "logout", "--local-only")
	var doc struct {
		Items map[string][]byte `json:"items"`
	}
	_ = json.Unmarshal(mustRead(t, e.Get("XDG_STATE_HOME")+"/idpctl/credentials.json"), &doc)
	if _, ok := doc.Items[e.Get("IDPCTL_PROFILE")+":dpop_key"]; ok {
		t.Error("logout left the DPoP key in the store")
	}
}

// An IdP without DPoP (the sandbox) issues Bearer tokens whatever is
// asked: --dpop says so on stderr, reports the type truthfully, and the
// token is served from the cache like any other instead of a new grant
// on every call.
func TestDPoPAskedOfAnIdPWithoutItWarnsAndStillCaches(t *testing.T) {
	t.Parallel()
	srv := startSandbox(t, sandbox.Options{})
	e := sandboxEnv(t, srv, sandbox.ServiceClientID).Set("IDPCTL_STORE", "file")
	r := mustRun(t, e, "", "token", "get", "--dpop", "-o", "json")
	var first tokenJSON
	if err := json.Unmarshal([]byte(r.Stdout), &first); err != nil {
		t.Fatal(err)
	}
	e.Secret(first.AccessToken)
	if first.TokenType != "Bearer" || !strings.Contains(r.Stderr, "issued a Bearer token") {
		t.Fatalf("want a Bearer token and a warning\n%s", r)
	}
	before := srv.Requests(sandbox.PathToken)
	again := getTokenJSON(t, e, "--dpop")
	if again.Source != "cache" || again.AccessToken != first.AccessToken || srv.Requests(sandbox.PathToken) != before {
		t.Errorf("second --dpop: source %q, %d new token requests", again.Source, srv.Requests(sandbox.PathToken)-before)
	}
}
