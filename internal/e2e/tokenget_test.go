package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

func TestTokenGetAuthenticatesWithEveryClientAuthMethodOfOIDCProvider(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})

	type tc struct {
		name   string
		client string
		// env prepares the client's credentials and returns extra args.
		env func(t *testing.T, e *Env) []string
	}
	keyFile := func(alg string, jwk bool) func(*testing.T, *Env) []string {
		return func(t *testing.T, e *Env) []string {
			path := p.PrivateKeyFile[alg]
			if jwk {
				path = e.WriteFile(t, "key-"+alg+".jwk", string(p.PrivateKeyJWK[alg]), true)
			}
			return []string{"--client-auth", "private_key_jwt", "--private-key-file", path}
		}
	}
	cases := []tc{
		{"client_secret_basic with the secret in a file", oidcpeer.ClientCCBasic, func(_ *testing.T, e *Env) []string {
			return []string{"--client-auth", "client_secret_basic"}
		}},
		{"client_secret_post with the secret in the environment", oidcpeer.ClientCCPost, func(_ *testing.T, e *Env) []string {
			e.Unset("IDPCTL_CLIENT_SECRET_FILE").Set("IDPCTL_CLIENT_SECRET", p.Secrets[oidcpeer.ClientCCPost])
			return []string{"--client-auth", "client_secret_post"}
		}},
		{"client_secret_jwt signed with the secret", oidcpeer.ClientCCSecretJWT, func(_ *testing.T, e *Env) []string {
			return []string{"--client-auth", "client_secret_jwt"}
		}},
		{"private_key_jwt with an RS256 PEM key", oidcpeer.ClientCCPrivateJWT, keyFile("RS256", false)},
		{"private_key_jwt with an RS256 JWK", oidcpeer.ClientCCPrivateJWT, keyFile("RS256", true)},
		{"private_key_jwt with an ES256 PEM key", oidcpeer.ClientCCPrivateJWT, keyFile("ES256", false)},
		{"private_key_jwt with an ES256 JWK", oidcpeer.ClientCCPrivateJWT, keyFile("ES256", true)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := peerEnv(t, p, c.client).Set("IDPCTL_STORE", "memory")
			args := c.env(t, e)
			tok := getToken(t, e, args...)

			// The IdP itself vouches for the token, asked with the same
			// client authentication.
			rep, r := inspectJSON(t, e, tok, append([]string{"--introspect"}, args...)...)
			if r.Code != 0 || rep.Introspection["active"] != true || rep.Introspection["client_id"] != c.client {
				t.Fatalf("introspection %v, want active for %s\n%s", rep.Introspection, c.client, r)
			}
		})
	}
}

func TestTokenGetAuthenticatesWithAClientCertificateOverTLS(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{TLS: true})
	if !strings.HasPrefix(p.Issuer, "https://") {
		t.Fatalf("peer issuer %q is not https", p.Issuer)
	}
	e := peerEnv(t, p, oidcpeer.ClientTLS).Set("IDPCTL_STORE", "memory")
	certArgs := []string{"--client-auth", "tls_client_auth", "--client-cert-file", p.ClientCertFile, "--client-key-file", p.ClientKeyFile}
	e.SecretPEM(mustRead(t, p.ClientKeyFile))

	t.Run("without the CA the server is not trusted", func(t *testing.T) {
		r := wantExit(t, e, 5, "", append([]string{"token", "get"}, certArgs...)...)
		if !strings.Contains(r.Stderr, "unknown authority") || !strings.Contains(r.Stderr, "--ca-file") {
			t.Errorf("the message should name the cause and the fix:\n%s", r.Stderr)
		}
	})
	t.Run("with --ca-file and the certificate a token is issued", func(t *testing.T) {
		before := tokenCount(t, p, "client_credentials")
		getToken(t, e, append([]string{"--ca-file", p.CAFile}, certArgs...)...)
		if n := tokenCount(t, p, "client_credentials") - before; n != 1 {
			t.Errorf("the peer counted %d client_credentials requests, want 1", n)
		}
	})
	t.Run("without a certificate it says which flags are missing", func(t *testing.T) {
		r := wantExit(t, e, 2, "", "token", "get", "--ca-file", p.CAFile, "--client-auth", "tls_client_auth")
		if !strings.Contains(r.Stderr, "--client-cert-file") {
			t.Errorf("the message should name --client-cert-file:\n%s", r.Stderr)
		}
	})
}

func TestTokenGetForAResourceReturnsAJWTAccessToken(t *testing.T) {
	t.Parallel()
	p := oidcpeer.Start(t, oidcpeer.Config{})
	e := peerEnv(t, p, oidcpeer.ClientCCBasic).Set("IDPCTL_STORE", "memory")

	tok := getToken(t, e, "--resource", oidcpeer.Resource, "--scope", "api:read")
	if !jwtShape.MatchString(tok) {
		t.Fatalf("a token for %s should be a JWT (RFC 9068)", oidcpeer.Resource)
	}
	c := claims(t, tok)
	if !slices.Contains(audiences(c), oidcpeer.Resource) || c["client_id"] != oidcpeer.ClientCCBasic || c["scope"] != "api:read" {
		t.Errorf("claims aud %v client_id %v scope %v, want %s, %s, api:read", c["aud"], c["client_id"], c["scope"], oidcpeer.Resource, oidcpeer.ClientCCBasic)
	}
}

func TestTokenGetOutputFormatsShowTheSameCachedToken(t *testing.T) {
	t.Parallel()
	// Longer than the default --min-ttl of 60s, or nothing is ever cached.
	p := oidcpeer.Start(t, oidcpeer.Config{AccessTokenTTL: 10 * time.Minute})
	e := peerEnv(t, p, oidcpeer.ClientCCBasic)

	start := time.Now()
	r := mustRun(t, e, "", "token", "get", "-o", "json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, r)
	}
	tok, _ := doc["access_token"].(string)
	if tok == "" {
		t.Fatalf("-o json has no access_token:\n%s", r.Stdout)
	}
	e.Secret(tok)

	t.Run("json has snake_case fields, expires_at in RFC 3339 UTC and expires_in in seconds", func(t *testing.T) {
		snake := regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`)
		for k := range doc {
			if !snake.MatchString(k) {
				t.Errorf("field %q is not snake_case", k)
			}
		}
		if doc["token_type"] != "Bearer" || doc["source"] != "grant" {
			t.Errorf("token_type %v source %v, want Bearer and grant", doc["token_type"], doc["source"])
		}
		at, _ := doc["expires_at"].(string)
		exp, err := time.Parse(time.RFC3339, at)
		if err != nil || !strings.HasSuffix(at, "Z") {
			t.Fatalf("expires_at %q is not RFC 3339 UTC: %v", at, err)
		}
		if d := exp.Sub(start); d < 590*time.Second || d > 610*time.Second {
			t.Errorf("expires_at is %s after the request, want about 10m", d)
		}
		in, ok := doc["expires_in"].(float64)
		if !ok || in != float64(int64(in)) || in < 590 || in > 600 {
			t.Errorf("expires_in %v, want whole seconds near 600", doc["expires_in"])
		}
	})
	t.Run("raw is the token and a newline", func(t *testing.T) {
		if got := getToken(t, e); got != tok {
			t.Error("raw output is not the cached token")
		}
	})
	t.Run("header is an Authorization header line", func(t *testing.T) {
		r := mustRun(t, e, "", "token", "get", "-o", "header")
		if r.Stdout != "Authorization: Bearer "+tok+"\n" {
			t.Errorf("header output %q", strings.ReplaceAll(r.Stdout, tok, "<token>"))
		}
	})
	t.Run("env is shell that sets the token", func(t *testing.T) {
		r := mustRun(t, e, "", "token", "get", "-o", "env")
		sh := exec.Command("sh", "-c", `eval "$(cat)" && printf '%s\n%s' "$IDPCTL_ACCESS_TOKEN" "$IDPCTL_TOKEN_EXPIRES_AT"`)
		sh.Stdin = strings.NewReader(r.Stdout)
		out, err := sh.Output()
		if err != nil {
			t.Fatalf("sh could not evaluate the env output: %v", err)
		}
		got, exp, _ := strings.Cut(string(out), "\n")
		if got != tok {
			t.Error("IDPCTL_ACCESS_TOKEN is not the token")
		}
		if exp != doc["expires_at"] {
			t.Errorf("IDPCTL_TOKEN_EXPIRES_AT %q, want %v", exp, doc["expires_at"])
		}
	})
	t.Run("exec-credential is a client.authentication.k8s.io/v1 ExecCredential", func(t *testing.T) {
		r := mustRun(t, e, "", "token", "get", "-o", "exec-credential")
		checkExecCredential(t, r.Stdout, "client.authentication.k8s.io/v1", tok, doc["expires_at"])
	})
	t.Run("exec-credential answers in the version KUBERNETES_EXEC_INFO asks for", func(t *testing.T) {
		k := e.Clone().Set("KUBERNETES_EXEC_INFO", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`)
		r := mustRun(t, k, "", "token", "get", "-o", "exec-credential")
		checkExecCredential(t, r.Stdout, "client.authentication.k8s.io/v1beta1", tok, doc["expires_at"])
	})

	if n := tokenCount(t, p, "client_credentials"); n != 1 {
		t.Errorf("the peer counted %d client_credentials requests for six outputs of one cached token, want 1", n)
	}
}

// checkExecCredential decodes the ExecCredential strictly, as client-go's
// exec plugin does, so unknown or misspelt fields fail.
func checkExecCredential(t *testing.T, out, apiVersion, token string, expiresAt any) {
	t.Helper()
	var ec struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       *struct {
			Interactive bool `json:"interactive"`
		} `json:"spec,omitempty"`
		Status struct {
			Token                 string `json:"token"`
			ExpirationTimestamp   string `json:"expirationTimestamp"`
			ClientCertificateData string `json:"clientCertificateData"`
			ClientKeyData         string `json:"clientKeyData"`
		} `json:"status"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ec); err != nil {
		t.Fatalf("not an ExecCredential: %v", err)
	}
	if ec.APIVersion != apiVersion || ec.Kind != "ExecCredential" {
		t.Errorf("apiVersion %q kind %q, want %s ExecCredential", ec.APIVersion, ec.Kind, apiVersion)
	}
	if ec.Status.Token != token {
		t.Error("status.token is not the token")
	}
	if _, err := time.Parse(time.RFC3339, ec.Status.ExpirationTimestamp); err != nil || ec.Status.ExpirationTimestamp != expiresAt {
		t.Errorf("status.expirationTimestamp %q, want %v in RFC 3339", ec.Status.ExpirationTimestamp, expiresAt)
	}
}

// An IdP may grant fewer scopes than asked (RFC 6749 §3.3) and says which:
// token get warns, and the cached token is never served for a scope the
// IdP refused.
func TestAScopeTheIdPDidNotGrantIsNeverServedFromTheCache(t *testing.T) {
	t.Parallel()
	var grants atomic.Int32
	srv := hostileIdP(t, "", func(w http.ResponseWriter, r *http.Request) {
		n := grants.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("read-only-token-%d", n), "token_type": "Bearer", "expires_in": 3600, "scope": "api:read"})
	})
	e := hostileEnv(t, srv).Set("IDPCTL_STORE", "file")
	r := mustRun(t, e, "", "token", "get", "--scope", "api:read api:write")
	if !strings.Contains(r.Stderr, "warning: the IdP did not grant api:write") {
		t.Errorf("no warning about the scope not granted\n%s", r)
	}
	r = mustRun(t, e, "", "token", "get", "--scope", "api:write", "-o", "json")
	if grants.Load() != 2 || strings.Contains(r.Stdout, `"source": "cache"`) {
		t.Errorf("a token for api:read was served for api:write (%d grants)\n%s", grants.Load(), r)
	}
	if mustRun(t, e, "", "token", "get", "--scope", "api:read"); grants.Load() != 2 {
		t.Errorf("the granted scope was not served from the cache (%d grants)", grants.Load())
	}
}
