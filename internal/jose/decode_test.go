package jose

import (
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// A JWE from RFC 7516 Appendix A.3 (A128KW, A128CBC-HS256).
const rfcJWE = "eyJhbGciOiJBMTI4S1ciLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0." +
	"6KB707dM9YTIgHtLvtgWQ8mKwboJW3of9locizkDTHzBC2IlrT1oOQ." +
	"AxY8DCtDaGlsbGljb3RoZQ." +
	"KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY." +
	"U0m_YmjN04DJvceFICbCVQ"

func TestClassifyTellsSignedFromEncryptedTokens(t *testing.T) {
	key := newECKey(t, elliptic.P256())
	jws := mint(t, "ES256", key, "k", claimsWith(nil), nil)
	tests := []struct {
		name string
		in   string
		want Form
	}{
		{"a signed token", jws, FormJWS},
		{"a signed token with a trailing newline", jws + "\n", FormJWS},
		{"an unsecured token with an empty signature", unsecured(t, "none", claimsWith(nil)), FormJWS},
		{"an encrypted token", rfcJWE, FormJWE},
		{"a JWE header on three parts", strings.Join(strings.Split(rfcJWE, ".")[:3], "."), FormJWS},
		{"five parts whose header has no enc", strings.Split(jws, ".")[0] + ".a.b.c.d", FormNone},
		{"an opaque access token", "2YotnFZFEjr1zCsicMWpAA", FormNone},
		{"a host name", "login.example.com", FormNone},
		{"three parts whose header is not JSON", "aGVsbG8.d29ybGQ.c2ln", FormNone},
		{"a header without alg", "eyJ0eXAiOiJKV1QifQ.e30.c2ln", FormNone},
		{"a detached payload", strings.Split(jws, ".")[0] + ".." + strings.Split(jws, ".")[2], FormNone},
		{"standard base64 characters", strings.Replace(jws, "_", "/", 1) + "+", FormNone},
		{"four parts", jws + ".x", FormNone},
		{"empty", "", FormNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Classify(tc.in); got != tc.want {
				t.Errorf("Classify = %v, want %v", got, tc.want)
			}
			if got, want := LooksLikeJWT(tc.in), tc.want != FormNone; got != want {
				t.Errorf("LooksLikeJWT = %v, want %v", got, want)
			}
		})
	}
}

func TestDecodeShowsAnyTokenWithoutVerifying(t *testing.T) {
	key := newECKey(t, elliptic.P256())
	tok := mint(t, "ES256", key, "kid-7", claimsWith(map[string]any{"exp": int64(9007199254740993)}), nil)
	d, err := Decode("  " + tok + "\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if d.Raw != tok {
		t.Error("Raw is not the trimmed token")
	}
	if d.Header["alg"] != "ES256" || d.Header["kid"] != "kid-7" {
		t.Errorf("header = %v", d.Header)
	}
	if d.Claims["sub"] != "user-1" {
		t.Errorf("claims = %v", d.Claims)
	}
	// Numbers stay exact: 2^53+1 does not survive a float64.
	if n, ok := d.Claims["exp"].(json.Number); !ok || n.String() != "9007199254740993" {
		t.Errorf("exp = %#v, want json.Number 9007199254740993", d.Claims["exp"])
	}
	if len(d.Signature) != 64 {
		t.Errorf("ES256 signature is %d bytes, want 64", len(d.Signature))
	}
	if d.Encrypted {
		t.Error("a JWS is reported as encrypted")
	}
}

func TestDecodeReportsAnEncryptedTokenPlainly(t *testing.T) {
	d, err := Decode(rfcJWE)
	if !errors.Is(err, ErrEncrypted) {
		t.Fatalf("error = %v, want ErrEncrypted", err)
	}
	if err.Error() != "encrypted token: cannot be decoded without the key" {
		t.Errorf("message = %q", err.Error())
	}
	if d == nil || !d.Encrypted || d.Header["enc"] != "A128CBC-HS256" || d.Claims != nil {
		t.Errorf("decoded = %+v, want the JWE header and no claims", d)
	}
}

func TestDecodeRefusesMalformedTokensWithoutQuotingThem(t *testing.T) {
	secretish := "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
	tests := []struct {
		name, in string
	}{
		{"empty", "   "},
		{"one part", secretish},
		{"two parts", secretish + "." + secretish},
		{"four parts", "eyJhbGciOiJub25lIn0.e30.." + secretish},
		{"a header that is not base64url", "eyJhbGci*OiJub25lIn0.e30." + secretish},
		{"a header that is not JSON", secretish + ".e30.c2ln"},
		{"a header with trailing data", "eyJhbGciOiJub25lIn19.e30." + secretish},
		{"a payload that is an array", "eyJhbGciOiJub25lIn0.WyJhIl0." + secretish},
		{"a payload that is not JSON", "eyJhbGciOiJub25lIn0." + secretish + ".c2ln"},
		{"a signature that is not base64url", "eyJhbGciOiJub25lIn0.e30.*" + secretish},
		{"a JWE whose header is not JSON", secretish + ".a.b.c.d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.in)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error = %v, want ErrMalformed", err)
			}
			if strings.Contains(err.Error(), secretish) || strings.Contains(err.Error(), "secret") {
				t.Errorf("error message quotes the token: %v", err)
			}
		})
	}
}

func TestDecodeToleratesPadding(t *testing.T) {
	d, err := Decode("eyJhbGciOiJub25lIn0=.eyJzdWIiOiJhIn0=.")
	if err != nil {
		t.Fatal(err)
	}
	if d.Claims["sub"] != "a" {
		t.Errorf("claims = %v", d.Claims)
	}
}
