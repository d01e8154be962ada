package jose

import (
	"errors"
	"strings"
	"testing"
)

// FuzzDecode feeds Decode and Classify arbitrary input: none may
// panic, Decode's errors are always typed and never quote the input, and the
// cheap classifier agrees with the decoder about encrypted tokens.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		form := Classify(s)

		d, err := Decode(s)
		switch {
		case err == nil:
			if d == nil || d.Header == nil || d.Claims == nil || d.Encrypted {
				t.Fatalf("Decode succeeded with %+v", d)
			}
		case errors.Is(err, ErrEncrypted):
			if d == nil || !d.Encrypted || d.Header == nil || d.Claims != nil {
				t.Fatalf("encrypted token decoded as %+v", d)
			}
		default:
			var te *TokenError
			if !errors.As(err, &te) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if trimmed := strings.TrimSpace(s); len(trimmed) >= 16 && strings.Contains(err.Error(), trimmed) {
				t.Fatalf("error quotes the input: %v", err)
			}
		}
		if form == FormJWE && !errors.Is(err, ErrEncrypted) {
			t.Fatalf("Classify says JWE but Decode says %v", err)
		}
	})
}

// FuzzCheckUnverified: no input panics, every refusal is typed, and nothing
// unsigned or without exp is ever accepted.
func FuzzCheckUnverified(f *testing.F) {
	opts := VerifyOptions{Issuer: "https://idp.example", Audience: "api://default", Now: fixedNow}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := CheckUnverified(s, opts)
		if err != nil {
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if strings.EqualFold(v.Algorithm, "none") || v.ExpiresAt.IsZero() || v.Issuer != opts.Issuer {
			t.Fatalf("accepted %+v", v)
		}
	})
}
