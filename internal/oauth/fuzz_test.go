package oauth

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

func fuzzResponse(status int, body string) *httpx.Response {
	return &httpx.Response{Status: status, Body: []byte(body), Header: http.Header{"Content-Type": {"application/json"}}, URL: "https://idp.example/token"}
}

// FuzzParseToken: a token response never panics the parser, and whatever
// it accepts is usable: a token, a Bearer (or N_A) type, a sane expiry.
func FuzzParseToken(f *testing.F) {
	f.Add(`{"access_token":"a","token_type":"Bearer","expires_in":3600,"refresh_token":"r","scope":"x y"}`)
	f.Add(`{"access_token":"a","token_type":"bearer","expires_in":"60"}`)
	f.Add(`{"access_token":"a","expires_in":-1}`)
	f.Add(`{"access_token":"a","token_type":"N_A","issued_token_type":"urn:ietf:params:oauth:token-type:id_token"}`)
	f.Add(`{"access_token":"a","token_type":"Bearer","expires_in":1e308,"scope":["a","b"]}`)
	f.Add(`<html>oops</html>`)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body string) {
		tok, err := parseToken(fuzzResponse(200, body), now, "")
		if err != nil {
			if errs.KindOf(err) == errs.KindUnknown {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		if !ValidTokenChars(tok.AccessToken) || strings.ContainsAny(tok.AccessToken, "\r\n \t\"'") {
			t.Fatalf("accepted a token outside RFC 6750's characters: %q", tok.AccessToken)
		}
		if tok.AccessToken == "" || (tok.TokenType != "Bearer" && tok.TokenType != "N_A") {
			t.Fatalf("accepted an unusable token: %+v", tok)
		}
		if !tok.ExpiresAt.IsZero() && (tok.ExpiresAt.Before(now) || tok.ExpiresAt.Sub(now) > maxLifetime) {
			t.Fatalf("expiry out of range: %v", tok.ExpiresAt)
		}
	})
}

// FuzzResponseError: any error body becomes a classified, printable error.
func FuzzResponseError(f *testing.F) {
	f.Add(400, `{"error":"invalid_grant","error_description":"expired"}`)
	f.Add(401, `{"error":"invalid_client"}`)
	f.Add(400, `{"error":"x\u001b[2J","error_description":"\u0000\u0007"}`)
	f.Add(502, `<html><title>Bad Gateway</title></html>`)
	f.Add(500, ``)
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 300 || status > 599 {
			return
		}
		err := responseError("token", fuzzResponse(status, body))
		if err == nil || errs.KindOf(err) == errs.KindUnknown {
			if err != nil && strings.Contains(err.Error(), "answered HTTP") {
				return // a 3xx/4xx with unreadable JSON wraps the network error
			}
			t.Fatalf("status %d: unclassified %v", status, err)
		}
		for _, r := range err.Error() {
			if unicode.IsControl(r) {
				t.Fatalf("control character in %q", err.Error())
			}
		}
	})
}

// FuzzParseMetadata: accepted metadata names the configured issuer and no
// plain-http endpoint off loopback.
func FuzzParseMetadata(f *testing.F) {
	f.Add(`{"issuer":"https://idp.example","token_endpoint":"https://idp.example/token","jwks_uri":"https://idp.example/jwks"}`)
	f.Add(`{"issuer":"https://idp.example","token_endpoint":"http://evil.example/token"}`)
	f.Add(`{"issuer":"https://other.example"}`)
	f.Add(`{"issuer":"https://idp.example","grant_types_supported":"client_credentials"}`)
	f.Fuzz(func(t *testing.T, body string) {
		md, err := ParseMetadata(fuzzResponse(200, body), "https://idp.example")
		if err != nil {
			return
		}
		if md.Issuer != "https://idp.example" {
			t.Fatalf("accepted issuer %q", md.Issuer)
		}
		for _, e := range []string{md.TokenEndpoint, md.AuthorizationEndpoint, md.JWKSURI, md.RevocationEndpoint, md.IntrospectionEndpoint, md.DeviceAuthorizationEndpoint} {
			if strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "http://127.") && !strings.HasPrefix(e, "http://localhost") && !strings.HasPrefix(e, "http://[::1]") {
				t.Fatalf("accepted plain http endpoint %q", e)
			}
		}
	})
}

// FuzzParseIntrospection: only a boolean active makes an answer.
func FuzzParseIntrospection(f *testing.F) {
	f.Add(`{"active":true,"scope":"a","exp":1700000000,"aud":["x"]}`)
	f.Add(`{"active":"true"}`)
	f.Add(`{"active":false}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, body string) {
		in, err := parseIntrospection(fuzzResponse(200, body))
		if err != nil {
			return
		}
		if _, ok := in.Raw["active"].(bool); !ok {
			t.Fatalf("accepted %s", body)
		}
	})
}

// FuzzValidTokenChars: the check accepts exactly RFC 6750's b64token.
func FuzzValidTokenChars(f *testing.F) {
	for _, s := range []string{"a", "abc.DEF-ghi_~+/", "YWJj==", "=", "a=b", "a\r\nX-Evil: 1", "a b", "", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		body := strings.TrimRight(s, "=")
		want := body != ""
		for _, r := range body {
			if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-._~+/", r))) {
				want = false
			}
		}
		if got := ValidTokenChars(s); got != want {
			t.Fatalf("ValidTokenChars(%q) = %v, want %v", s, got, want)
		}
	})
}

// FuzzParseAuthorizationDetails: any input gives either a usage error or a
// compact JSON array of objects that each have a non-empty string type.
func FuzzParseAuthorizationDetails(f *testing.F) {
	f.Add(`[{"type":"payment_initiation","actions":["initiate"],"locations":["https://a"]}]`)
	f.Add(`[{"type":""}]`)
	f.Add(`{"type":"a"}`)
	f.Add(`[{"type":"a","identifier":1}]`)
	f.Add(`[[]]`)
	f.Fuzz(func(t *testing.T, in string) {
		out, err := ParseAuthorizationDetails([]byte(in))
		if err != nil {
			if errs.KindOf(err) != errs.KindUsage {
				t.Fatalf("not a usage error: %v", err)
			}
			return
		}
		var list []map[string]any
		if json.Unmarshal([]byte(out), &list) != nil || len(list) == 0 {
			t.Fatalf("accepted %q as %q", in, out)
		}
		for _, d := range list {
			if s, ok := d["type"].(string); !ok || s == "" {
				t.Fatalf("accepted an entry without a type: %q", out)
			}
		}
	})
}
