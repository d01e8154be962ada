package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// signJWT signs claims with a private JWK (JSON), adding a fresh jti.
func signJWT(t testing.TB, jwkJSON []byte, c map[string]any) string {
	t.Helper()
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(jwkJSON); err != nil {
		t.Fatalf("parse JWK: %v", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Algorithm), Key: k},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.KeyID))
	if err != nil {
		t.Fatalf("signer: %v", err)
	}
	out := map[string]any{"jti": randomHex(t), "iat": time.Now().Unix()}
	for name, v := range c {
		out[name] = v
	}
	payload, _ := json.Marshal(out)
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randomHex(t testing.TB) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// clientAssertion is what a CI system federated with the peer would issue
// for cc-private-jwt: the peer validates private_key_jwt against the
// client's registered keys, so a JWT signed with one of them stands for a
// token from a trusted third party. iss and sub are the client id, as the
// peer requires (RFC 7523 §3 for client authentication).
func clientAssertion(t testing.TB, p *oidcpeer.Peer, aud string, exp time.Time) string {
	return signJWT(t, p.PrivateKeyJWK["ES256"], map[string]any{
		"iss": oidcpeer.ClientCCPrivateJWT, "sub": oidcpeer.ClientCCPrivateJWT,
		"aud": aud, "exp": exp.Unix(),
	})
}

func TestClientAssertionFileAuthenticatesTheClientWithoutASecret(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	base := peerEnv(t, p, oidcpeer.ClientCCPrivateJWT).Set("IDPCTL_STORE", "memory")
	const cc = "client_credentials"

	// write replaces the file as a CI system rotating the token would.
	write := func(t *testing.T, e *Env, jwt string) string {
		e.Secret(jwt)
		return e.WriteFile(t, "ci-token.jwt", jwt+"\n", true)
	}

	t.Run("the flag, re-read for each run as the file rotates", func(t *testing.T) {
		e := base.WithNewProfile(t)
		file := write(t, e, clientAssertion(t, p, p.Issuer, time.Now().Add(5*time.Minute)))
		tok := getToken(t, e, "--client-assertion-file", file)

		// The same assertion again is refused by the peer's replay check
		// (jti): proof that the peer judged this very JWT.
		r := wantExit(t, e, 4, "", "token", "get", "--no-cache", "--client-assertion-file", file)
		if !strings.Contains(r.Stderr, "invalid_client") {
			t.Errorf("want the peer's invalid_client:\n%s", r)
		}

		// A fresh one in the same file authenticates the introspection.
		write(t, e, clientAssertion(t, p, p.Issuer, time.Now().Add(5*time.Minute)))
		rep, r := inspectJSON(t, e, tok, "--introspect", "--client-assertion-file", file)
		if r.Code != 0 || rep.Introspection["active"] != true || rep.Introspection["client_id"] != oidcpeer.ClientCCPrivateJWT {
			t.Fatalf("introspection %v, want active for %s\n%s", rep.Introspection, oidcpeer.ClientCCPrivateJWT, r)
		}
	})
	t.Run("the environment variable, aimed at the token endpoint", func(t *testing.T) {
		e := base.WithNewProfile(t)
		e.Set("IDPCTL_CLIENT_ASSERTION_FILE", write(t, e, clientAssertion(t, p, p.Issuer+"/token", time.Now().Add(time.Minute))))
		getToken(t, e)
	})
	t.Run("the configuration key", func(t *testing.T) {
		e := base.WithNewProfile(t)
		file := write(t, e, clientAssertion(t, p, p.Issuer, time.Now().Add(time.Minute)))
		cfg := fmt.Sprintf("profiles:\n  %s:\n    issuer: %s\n    client_id: %s\n    client_assertion_file: %s\n",
			e.Get("IDPCTL_PROFILE"), p.Issuer, oidcpeer.ClientCCPrivateJWT, file)
		e.Set("IDPCTL_CONFIG", e.WriteFile(t, "config.yaml", cfg, false)).Unset("IDPCTL_ISSUER").Unset("IDPCTL_CLIENT_ID")
		getToken(t, e)
	})
	t.Run("saved in the profile by profile add", func(t *testing.T) {
		e := base.WithNewProfile(t)
		file := write(t, e, clientAssertion(t, p, p.Issuer, time.Now().Add(time.Minute)))
		e.Unset("IDPCTL_ISSUER").Unset("IDPCTL_CLIENT_ID")
		mustRun(t, e, "", "profile", "add", e.Get("IDPCTL_PROFILE"), "--issuer", p.Issuer, "--client-id", oidcpeer.ClientCCPrivateJWT, "--client-assertion-file", file)
		getToken(t, e)
		wantExit(t, e, 2, "", "profile", "add", e.Get("IDPCTL_PROFILE")+"-x", "--issuer", p.Issuer, "--client-id", "x", "--client-assertion-source", "jenkins")
	})
	t.Run("--dpop binds the token of a client authenticated by an assertion", func(t *testing.T) {
		// Secretless CI and sender-constrained tokens together: the
		// assertion authenticates the client, the proof binds the token.
		// The file store keeps the token and its key for the inspection.
		e := base.WithNewProfile(t).Set("IDPCTL_STORE", "file")
		file := write(t, e, clientAssertion(t, p, p.Issuer, time.Now().Add(5*time.Minute)))
		tj := getTokenJSON(t, e, "--dpop", "--client-assertion-file", file)
		if tj.TokenType != "DPoP" || tj.DPoPJkt == "" {
			t.Fatalf("token_type %q dpop_jkt %q: --dpop was ignored", tj.TokenType, tj.DPoPJkt)
		}
		write(t, e, clientAssertion(t, p, p.Issuer, time.Now().Add(5*time.Minute)))
		rep := introspectCached(t, e, "--dpop", "--client-assertion-file", file)
		if rep.Introspection["active"] != true || cnfJkt(rep.Introspection) != tj.DPoPJkt {
			t.Errorf("the IdP does not hold a token bound to %s: %v", tj.DPoPJkt, rep.Introspection)
		}
	})
	t.Run("the debug trace carries no assertion", func(t *testing.T) {
		e := base.WithNewProfile(t)
		jwt := clientAssertion(t, p, p.Issuer, time.Now().Add(time.Minute))
		r := mustRun(t, e, "", "token", "get", "--debug", "--client-assertion-file", write(t, e, jwt))
		if strings.Contains(r.Stderr, jwt) || strings.Contains(r.Stderr, strings.Split(jwt, ".")[2]) {
			t.Fatalf("the trace shows the assertion:\n%s", r.Stderr)
		}
		if !strings.Contains(r.Stderr, "client_assertion") {
			t.Fatalf("the trace does not show the request at all:\n%s", r.Stderr)
		}
	})

	bad := []struct {
		name, content string
		code          int
		want          string
	}{
		{"a file that holds no JWT is a usage error", "not-a-jwt\n", 2, "does not hold a JWT"},
		{"an unsigned JWT is a usage error", "eyJhbGciOiJub25lIn0.eyJleHAiOjQxMDI0NDQ4MDB9.\n", 2, "unsigned"},
		{"an expired JWT is refused before sending", "", 4, "expired at"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			e := base.WithNewProfile(t)
			content := c.content
			if content == "" {
				content = clientAssertion(t, p, p.Issuer, time.Now().Add(-time.Hour))
			}
			file := write(t, e, strings.TrimSpace(content))
			before := tokenCount(t, p, cc)
			r := wantExit(t, e, c.code, "", "token", "get", "--client-assertion-file", file)
			if !strings.Contains(r.Stderr, c.want) || !strings.Contains(r.Stderr, file) {
				t.Errorf("want %q naming the file:\n%s", c.want, r)
			}
			if n := tokenCount(t, p, cc); n != before {
				t.Errorf("the peer saw %d token requests; the assertion should have been refused before sending", n-before)
			}
		})
	}
	t.Run("a missing file is a usage error", func(t *testing.T) {
		e := base.WithNewProfile(t)
		r := wantExit(t, e, 2, "", "token", "get", "--client-assertion-file", e.dir+"/absent.jwt")
		if !strings.Contains(r.Stderr, "absent.jwt") {
			t.Errorf("the message should name the file:\n%s", r)
		}
	})
	t.Run("a client assertion and a private key at once is a usage error", func(t *testing.T) {
		e := base.WithNewProfile(t)
		file := write(t, e, clientAssertion(t, p, p.Issuer, time.Now().Add(time.Minute)))
		wantExit(t, e, 2, "", "token", "get", "--client-assertion-file", file, "--private-key-file", p.PrivateKeyFile["ES256"])
	})
}

// actionsRuntime is a loopback stand-in for the GitHub Actions ID token
// endpoint: it checks the bearer the runner would have set and answers
// {"value": jwt} with a JWT minted for the requested audience.
type actionsRuntime struct {
	*httptest.Server
	bearer string
	mu     sync.Mutex
	seen   []string // audiences asked for
	status int      // answer this status instead, when set
}

func newActionsRuntime(t *testing.T, mint func(aud string) string) *actionsRuntime {
	rt := &actionsRuntime{bearer: "ghrt-" + randomHex(t)}
	rt.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt.mu.Lock()
		status := rt.status
		rt.mu.Unlock()
		if r.Method != http.MethodGet || r.URL.Path != "/idtoken" || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "unexpected request "+r.Method+" "+r.URL.String(), http.StatusBadRequest)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+rt.bearer {
			http.Error(w, `{"message":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		aud := r.URL.Query().Get("audience")
		rt.mu.Lock()
		rt.seen = append(rt.seen, aud)
		rt.mu.Unlock()
		if status != 0 {
			http.Error(w, "runtime failure", status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"value": mint(aud)})
	}))
	t.Cleanup(rt.Close)
	return rt
}

func (rt *actionsRuntime) audiences() []string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]string(nil), rt.seen...)
}

// env sets what the runner sets in a job with id-token: write.
func (rt *actionsRuntime) env(e *Env) *Env {
	e.Secret(rt.bearer)
	return e.Set("ACTIONS_ID_TOKEN_REQUEST_URL", rt.URL+"/idtoken?api-version=2.0").Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", rt.bearer)
}

func TestClientAssertionFromGitHubActionsAuthenticatesTheClient(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	var minted sync.Map
	rt := newActionsRuntime(t, func(aud string) string {
		jwt := clientAssertion(t, p, aud, time.Now().Add(5*time.Minute))
		minted.Store(jwt, true)
		return jwt
	})
	base := rt.env(peerEnv(t, p, oidcpeer.ClientCCPrivateJWT).Set("IDPCTL_STORE", "memory"))

	t.Run("asks for the issuer as audience by default", func(t *testing.T) {
		e := base.WithNewProfile(t)
		before := len(rt.audiences())
		r := mustRun(t, e, "", "token", "get", "--client-assertion-source", "github-actions", "--debug")
		e.Secret(tokenLine(t, r))
		if got := rt.audiences()[before:]; !slices.Equal(got, []string{p.Issuer}) {
			t.Errorf("the runtime was asked for audiences %q, want the issuer once", got)
		}
		minted.Range(func(k, _ any) bool {
			if strings.Contains(r.Stderr, k.(string)) {
				t.Errorf("the debug trace shows a minted ID token")
			}
			return true
		})
		if strings.Contains(r.Stderr, rt.bearer) {
			t.Errorf("the debug trace shows the runtime's request token")
		}
	})
	t.Run("asks for the configured audience", func(t *testing.T) {
		e := base.WithNewProfile(t).Set("IDPCTL_CLIENT_ASSERTION_SOURCE", "github-actions").Set("IDPCTL_CLIENT_ASSERTION_AUDIENCE", p.Issuer+"/token")
		before := len(rt.audiences())
		getToken(t, e)
		if got := rt.audiences()[before:]; !slices.Equal(got, []string{p.Issuer + "/token"}) {
			t.Errorf("the runtime was asked for audiences %q", got)
		}
	})
	t.Run("outside a job with id-token permission it says what is missing", func(t *testing.T) {
		e := base.WithNewProfile(t).Unset("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
		r := wantExit(t, e, 2, "", "token", "get", "--client-assertion-source", "github-actions")
		if !strings.Contains(r.Stderr, "ACTIONS_ID_TOKEN_REQUEST_TOKEN") || !strings.Contains(r.Stderr, "id-token: write") {
			t.Errorf("want the missing variable and the permission named:\n%s", r)
		}
	})
	t.Run("a wrong request token is refused by the runtime", func(t *testing.T) {
		e := base.WithNewProfile(t).Set("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ghrt-wrong-"+randomHex(t))
		r := wantExit(t, e, 4, "", "token", "get", "--client-assertion-source", "github-actions")
		if !strings.Contains(r.Stderr, "GitHub Actions runtime refused") {
			t.Errorf("want the runtime's refusal:\n%s", r)
		}
	})
	t.Run("a failing runtime is a network error", func(t *testing.T) {
		e := base.WithNewProfile(t)
		rt.mu.Lock()
		rt.status = http.StatusInternalServerError
		rt.mu.Unlock()
		defer func() { rt.mu.Lock(); rt.status = 0; rt.mu.Unlock() }()
		r := wantExit(t, e, 5, "", "token", "get", "--client-assertion-source", "github-actions")
		if !strings.Contains(r.Stderr, "HTTP 500") || !strings.Contains(r.Stderr, "GitHub Actions") {
			t.Errorf("want the runtime's status named:\n%s", r)
		}
	})
	t.Run("an unknown source is a usage error", func(t *testing.T) {
		e := base.WithNewProfile(t)
		wantExit(t, e, 2, "", "token", "get", "--client-assertion-source", "jenkins")
	})
}

func TestTokenExchangeTakesTheSubjectTokenFromTheCISystem(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	// A CI identity token: issued by the issuer the peer trusts for
	// assertions, naming the peer's user, aimed at the peer.
	ciToken := func(aud string, exp time.Time) string {
		return signJWT(t, p.AssertionKeyJWK, map[string]any{
			"iss": oidcpeer.AssertionIssuer, "sub": oidcpeer.AccountID, "aud": aud, "exp": exp.Unix(),
		})
	}
	rt := newActionsRuntime(t, func(aud string) string { return ciToken(aud, time.Now().Add(5*time.Minute)) })
	base := rt.env(peerEnv(t, p, oidcpeer.ClientExchanger).Set("IDPCTL_STORE", "memory"))

	t.Run("from GitHub Actions, typed id_token", func(t *testing.T) {
		e := base.WithNewProfile(t)
		tok := getToken(t, e, "--flow", "token-exchange", "--subject-token-source", "github-actions", "--resource", oidcpeer.Resource, "--scope", "api:read")
		if c := claims(t, tok); c["sub"] != oidcpeer.AccountID || !slices.Contains(audiences(c), oidcpeer.Resource) {
			t.Errorf("claims sub %v aud %v, want the CI token's subject at the resource", c["sub"], c["aud"])
		}
		if got := rt.audiences(); len(got) == 0 || got[len(got)-1] != p.Issuer {
			t.Errorf("runtime asked for %q, want the issuer", got)
		}
	})
	t.Run("from a file, typed jwt by its short name", func(t *testing.T) {
		e := base.WithNewProfile(t)
		jwt := ciToken(p.Issuer, time.Now().Add(time.Minute))
		file := e.WriteFile(t, "ci.jwt", jwt, true)
		tok := getToken(t, e, "--flow", "token-exchange", "--subject-token-file", file, "--subject-token-type", "jwt", "--resource", oidcpeer.Resource)
		if c := claims(t, tok); c["sub"] != oidcpeer.AccountID {
			t.Errorf("claims sub %v", c["sub"])
		}
	})
	t.Run("an expired CI token is refused before sending", func(t *testing.T) {
		e := base.WithNewProfile(t)
		file := e.WriteFile(t, "ci.jwt", ciToken(p.Issuer, time.Now().Add(-time.Minute)), true)
		before := tokenCount(t, p, oidcpeer.GrantTypeTokenExchange)
		r := wantExit(t, e, 4, "", "token", "get", "--flow", "token-exchange", "--subject-token-file", file, "--subject-token-type", "id_token")
		if !strings.Contains(r.Stderr, "expired at") {
			t.Errorf("want the expiry named:\n%s", r)
		}
		if tokenCount(t, p, oidcpeer.GrantTypeTokenExchange) != before {
			t.Error("the expired token was sent")
		}
	})
	t.Run("a CI token from an issuer the IdP does not trust is refused by it", func(t *testing.T) {
		e := base.WithNewProfile(t)
		other := signJWT(t, p.PrivateKeyJWK["ES256"], map[string]any{"iss": "someone-else", "sub": oidcpeer.AccountID, "aud": p.Issuer, "exp": time.Now().Add(time.Minute).Unix()})
		file := e.WriteFile(t, "ci.jwt", other, true)
		r := wantExit(t, e, 4, "", "token", "get", "--flow", "token-exchange", "--subject-token-file", file, "--subject-token-type", "id_token")
		if !strings.Contains(r.Stderr, "invalid_request") {
			t.Errorf("want the peer's refusal:\n%s", r)
		}
	})
}
