package e2e

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/e2e/oidcpeer"
)

// jwtShape matches a compact JWS anywhere in a text.
var jwtShape = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`)

// tokenLine checks the contract of `token get` on stdout: the token and
// one newline, nothing else, and returns the token.
func tokenLine(t testing.TB, r Result) string {
	t.Helper()
	tok, ok := strings.CutSuffix(r.Stdout, "\n")
	if !ok || tok == "" || strings.ContainsAny(tok, " \t\r\n") {
		t.Fatalf("stdout is not exactly a token and a newline: %q\n%s", r.Stdout, r)
	}
	return tok
}

// getToken runs `token get` with args, checks stdout and records the token
// as a secret of e.
func getToken(t testing.TB, e *Env, args ...string) string {
	t.Helper()
	tok := tokenLine(t, mustRun(t, e, "", append([]string{"token", "get"}, args...)...))
	e.Secret(tok)
	return tok
}

// claims decodes a JWT's payload without verifying it.
func claims(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("decode JWT payload: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("parse JWT payload: %v", err)
	}
	return c
}

// audiences reads aud, a string or a list (RFC 7519 §4.1.3).
func audiences(c map[string]any) []string {
	switch a := c["aud"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, v := range a {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// jwkPrivateMembers returns the private members of a JWK (RFC 7518 §6.2.2,
// §6.3.2), which must never be shown or passed anywhere.
func jwkPrivateMembers(t testing.TB, jwk []byte) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(jwk, &m); err != nil {
		t.Fatalf("parse JWK: %v", err)
	}
	var out []string
	for _, k := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if v, ok := m[k].(string); ok {
			out = append(out, v)
		}
	}
	return out
}

// inspectReport is the part of `token inspect -o json` the tests read.
type inspectReport struct {
	Format    string         `json:"format"`
	Claims    map[string]any `json:"claims"`
	Signature *struct {
		Verified bool   `json:"verified"`
		KeyID    string `json:"kid"`
		Alg      string `json:"alg"`
		Error    string `json:"error"`
	} `json:"signature"`
	Introspection map[string]any `json:"introspection"`
	Valid         bool           `json:"valid"`
	Problems      []string       `json:"problems"`
}

// inspectJSON runs `token inspect -o json` on a token given on stdin and
// returns the report with the run's result.
func inspectJSON(t testing.TB, e *Env, token string, args ...string) (inspectReport, Result) {
	t.Helper()
	r := run(t, e, token+"\n", append([]string{"token", "inspect", "-o", "json", "-"}, args...)...)
	var rep inspectReport
	if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
		t.Fatalf("token inspect -o json printed no report: %v\n%s", err, r)
	}
	return rep, r
}

// tokenCount is how many token requests of a grant type the peer counted.
func tokenCount(t testing.TB, p *oidcpeer.Peer, grantType string) int {
	t.Helper()
	return p.Stats(t).TokenRequests[grantType]
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
