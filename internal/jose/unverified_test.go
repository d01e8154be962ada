package jose

import (
	"errors"
	"testing"
	"time"
)

func TestAnUnverifiableTokenStillHasItsClaimsChecked(t *testing.T) {
	key := newRSAKey(t)
	opts := VerifyOptions{Issuer: "https://idp.example", Audience: "api://default", Nonce: "n-1", Now: fixedNow}
	good := map[string]any{"nonce": "n-1"}
	cases := []struct {
		name  string
		token string
		want  error // nil: accepted
	}{
		{"a signed token with the right claims", mint(t, "RS256", key, "k", claimsWith(good), nil), nil},
		{"alg none", unsecured(t, "none", claimsWith(good)), ErrAlgNotAllowed},
		{"alg NONE", unsecured(t, "NONE", claimsWith(good)), ErrAlgNotAllowed},
		{"a named alg without a signature", unsecured(t, "RS256", claimsWith(good)), ErrMalformed},
		{"another issuer", mint(t, "RS256", key, "k", claimsWith(map[string]any{"nonce": "n-1", "iss": "https://evil.example"}), nil), ErrIssuerMismatch},
		{"no issuer", mint(t, "RS256", key, "k", claimsWith(map[string]any{"nonce": "n-1", "iss": nil}), nil), ErrIssuerMismatch},
		{"another audience", mint(t, "RS256", key, "k", claimsWith(map[string]any{"nonce": "n-1", "aud": "someone-else"}), nil), ErrAudienceMismatch},
		{"expired", mint(t, "RS256", key, "k", claimsWith(map[string]any{"nonce": "n-1", "exp": testNow.Add(-time.Hour).Unix()}), nil), ErrExpired},
		{"no exp", mint(t, "RS256", key, "k", claimsWith(map[string]any{"nonce": "n-1", "exp": nil}), nil), ErrMalformed},
		{"another nonce", mint(t, "RS256", key, "k", claimsWith(map[string]any{"nonce": "n-2"}), nil), ErrNonceMismatch},
		{"no nonce", mint(t, "RS256", key, "k", claimsWith(nil), nil), ErrNonceMismatch},
		{"garbage", "not.a.jwt", ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := CheckUnverified(c.token, opts)
			if c.want == nil {
				if err != nil || v.Issuer != opts.Issuer {
					t.Fatalf("got %+v, %v; want accepted", v, err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}
