package jose

import (
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	gojose "github.com/go-jose/go-jose/v4"
)

func TestVerifyAppliesTheTokenRules(t *testing.T) {
	rsaKey := newRSAKey(t)
	otherRSA := newRSAKey(t)
	p256 := newECKey(t, elliptic.P256())
	p384 := newECKey(t, elliptic.P384())
	edKey := newEdKey(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	otherSecret := []byte("fedcba9876543210fedcba9876543210")

	standard := jwkSet(
		jwk(rsaKey, "rsa-1", "", "sig"),
		jwk(p256, "ec-1", "ES256", ""),
		jwk(p384, "ec-384", "", ""),
		jwk(edKey, "ed-1", "", "sig"),
	)
	rsaPub, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPub})

	good := claimsWith(nil)
	tests := []struct {
		name  string
		token string
		keys  *gojose.JSONWebKeySet
		opts  VerifyOptions
		want  error  // nil: verifies
		says  string // in the error message, when set
	}{
		{name: "an RS256 token signed by the kid's key verifies", token: mint(t, "RS256", rsaKey, "rsa-1", good, nil)},
		{name: "a PS384 token signed by an RSA key without alg verifies", token: mint(t, "PS384", rsaKey, "rsa-1", good, nil)},
		{name: "an ES256 token verifies", token: mint(t, "ES256", p256, "ec-1", good, nil)},
		{name: "an ES384 token verifies", token: mint(t, "ES384", p384, "ec-384", good, nil)},
		{name: "an EdDSA token verifies", token: mint(t, "EdDSA", edKey, "ed-1", good, nil)},

		{name: "an expired token is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"exp": testNow.Add(-2 * time.Minute).Unix()}), nil),
			want:  ErrExpired},
		{name: "a token expired less than the leeway ago is accepted",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"exp": testNow.Add(-30 * time.Second).Unix()}), nil)},
		{name: "a token expiring exactly now is refused without leeway",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"exp": testNow.Unix()}), nil),
			opts:  VerifyOptions{Leeway: -1}, want: ErrExpired},
		{name: "a longer leeway accepts a token expired within it",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"exp": testNow.Add(-2 * time.Minute).Unix()}), nil),
			opts:  VerifyOptions{Leeway: 5 * time.Minute}},
		{name: "a token whose nbf is beyond the leeway is not yet valid",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"nbf": testNow.Add(5 * time.Minute).Unix()}), nil),
			want:  ErrNotYetValid},
		{name: "a token whose nbf is within the leeway is accepted",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"nbf": testNow.Add(30 * time.Second).Unix()}), nil)},
		{name: "a token issued in the future beyond the leeway is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"iat": testNow.Add(5 * time.Minute).Unix()}), nil),
			want:  ErrIssuedInFuture},
		{name: "a token issued in the future within the leeway is accepted",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"iat": testNow.Add(30 * time.Second).Unix()}), nil)},
		{name: "a token with a fractional exp in the past is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"exp": float64(testNow.Unix()) - 120.5}), nil),
			want:  ErrExpired},
		{name: "a token whose exp is a string is malformed",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"exp": "tomorrow"}), nil),
			want:  ErrMalformed},

		{name: "the expected issuer is accepted",
			token: mint(t, "RS256", rsaKey, "rsa-1", good, nil),
			opts:  VerifyOptions{Issuer: "https://idp.example"}},
		{name: "a different issuer is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"iss": "https://evil.example"}), nil),
			opts:  VerifyOptions{Issuer: "https://idp.example"}, want: ErrIssuerMismatch},
		{name: "an issuer differing only by a trailing slash is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"iss": "https://idp.example/"}), nil),
			opts:  VerifyOptions{Issuer: "https://idp.example"}, want: ErrIssuerMismatch},
		{name: "a missing issuer is refused when one is expected",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"iss": nil}), nil),
			opts:  VerifyOptions{Issuer: "https://idp.example"}, want: ErrIssuerMismatch},

		{name: "an absent audience is refused when one is expected",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"aud": nil}), nil),
			opts:  VerifyOptions{Audience: "api://default"}, want: ErrAudienceMismatch},
		{name: "an absent audience is fine when none is expected",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"aud": nil}), nil)},
		{name: "a string audience equal to the expected one is accepted",
			token: mint(t, "RS256", rsaKey, "rsa-1", good, nil),
			opts:  VerifyOptions{Audience: "api://default"}},
		{name: "a different string audience is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", good, nil),
			opts:  VerifyOptions{Audience: "api://other"}, want: ErrAudienceMismatch},
		{name: "an audience array containing the expected one is accepted",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"aud": []string{"a", "api://default"}}), nil),
			opts:  VerifyOptions{Audience: "api://default"}},
		{name: "an audience array without the expected one is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"aud": []string{"a", "b"}}), nil),
			opts:  VerifyOptions{Audience: "api://default"}, want: ErrAudienceMismatch},
		{name: "an audience that is a number is malformed",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"aud": 7}), nil),
			want:  ErrMalformed},

		{name: "alg none is refused",
			token: unsecured(t, "none", good), want: ErrAlgNotAllowed},
		{name: "alg None in another case is refused",
			token: unsecured(t, "None", good), want: ErrAlgNotAllowed},
		{name: "an HS256 token keyed with the RSA public key's bytes is refused by default",
			token: mint(t, "HS256", rsaPubPEM, "rsa-1", good, nil), want: ErrAlgNotAllowed},
		{name: "an HS256 token keyed with the RSA public key's bytes fails even when HS256 is allowed",
			token: mint(t, "HS256", rsaPubPEM, "rsa-1", good, nil),
			opts:  VerifyOptions{AllowedAlgs: []string{"RS256", "HS256"}, SharedSecret: secret}, want: ErrBadSignature},
		{name: "an HS256 token with the shared secret verifies when HS256 is allowed",
			token: mint(t, "HS256", secret, "", good, nil),
			opts:  VerifyOptions{AllowedAlgs: []string{"HS256"}, SharedSecret: secret}},
		{name: "an algorithm outside the allowed list is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", good, nil),
			opts:  VerifyOptions{AllowedAlgs: []string{"ES256"}}, want: ErrAlgNotAllowed},

		{name: "an HS256 token signed with a JWKS oct key is refused by default",
			token: mint(t, "HS256", secret, "oct-1", good, nil),
			keys:  jwkSet(gojose.JSONWebKey{Key: secret, KeyID: "oct-1", Algorithm: "HS256"}),
			want:  ErrAlgNotAllowed},
		{name: "an HS256 token is never checked against a JWKS oct key",
			token: mint(t, "HS256", secret, "oct-1", good, nil),
			keys:  jwkSet(gojose.JSONWebKey{Key: secret, KeyID: "oct-1", Algorithm: "HS256"}),
			opts:  VerifyOptions{AllowedAlgs: []string{"HS256"}, SharedSecret: otherSecret},
			want:  ErrBadSignature},
		{name: "an RS256 token whose kid names an oct key is refused",
			token: mint(t, "RS256", rsaKey, "oct-1", good, nil),
			keys:  jwkSet(gojose.JSONWebKey{Key: secret, KeyID: "oct-1"}),
			want:  ErrKeyMismatch, says: "symmetric (oct) key"},

		{name: "a key whose alg differs from the header is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", good, nil),
			keys:  jwkSet(jwk(rsaKey, "rsa-1", "RS512", "sig")),
			want:  ErrKeyMismatch, says: "for alg RS512"},
		{name: "a key with use enc is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", good, nil),
			keys:  jwkSet(jwk(rsaKey, "rsa-1", "", "enc")),
			want:  ErrKeyMismatch, says: `use is "enc"`},
		{name: "an ES256 header with a P-384 key is refused",
			token: mint(t, "ES256", p256, "ec-384", good, nil),
			want:  ErrKeyMismatch},
		{name: "an RS256 header naming an EC key is refused",
			token: mint(t, "RS256", rsaKey, "ec-1", good, nil),
			want:  ErrKeyMismatch},
		{name: "a token signed by another key under a known kid is refused",
			token: mint(t, "RS256", otherRSA, "rsa-1", good, nil),
			want:  ErrBadSignature},
		{name: "a JWKS entry holding a private key is used by its public part",
			token: mint(t, "RS256", rsaKey, "rsa-1", good, nil),
			keys:  jwkSet(gojose.JSONWebKey{Key: rsaKey, KeyID: "rsa-1"})},

		{name: "a token without kid verifies when exactly one key fits its alg",
			token: mint(t, "RS256", rsaKey, "", good, nil),
			keys:  jwkSet(jwk(rsaKey, "rsa-1", "", ""), jwk(p256, "ec-1", "", ""), jwk(edKey, "ed-1", "", ""))},
		{name: "a token without kid is refused when two keys fit its alg",
			token: mint(t, "RS256", rsaKey, "", good, nil),
			keys:  jwkSet(jwk(rsaKey, "rsa-1", "", ""), jwk(otherRSA, "rsa-2", "", "")),
			want:  ErrNoKey},
		{name: "a token without kid is refused when no key fits its alg",
			token: mint(t, "RS256", rsaKey, "", good, nil),
			keys:  jwkSet(jwk(p256, "ec-1", "", "")),
			want:  ErrNoKey},

		{name: "a matching nonce is accepted",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"nonce": "n-123"}), nil),
			opts:  VerifyOptions{Nonce: "n-123"}},
		{name: "a different nonce is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", claimsWith(map[string]any{"nonce": "n-999"}), nil),
			opts:  VerifyOptions{Nonce: "n-123"}, want: ErrNonceMismatch},
		{name: "a missing nonce is refused when one was sent",
			token: mint(t, "RS256", rsaKey, "rsa-1", good, nil),
			opts:  VerifyOptions{Nonce: "n-123"}, want: ErrNonceMismatch},

		{name: "a tampered payload is refused",
			token: tamper(t, mint(t, "RS256", rsaKey, "rsa-1", good, nil), claimsWith(map[string]any{"sub": "admin"})),
			want:  ErrBadSignature},
		{name: "a token with a critical header parameter is refused",
			token: mint(t, "RS256", rsaKey, "rsa-1", good, map[string]any{"crit": []string{"exp"}, "exp": 1}),
			want:  ErrMalformed},
		{name: "an encrypted token is reported as such",
			token: "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y2lwaGVy.dGFn",
			want:  ErrEncrypted},
		{name: "a string that is not a token is malformed",
			token: "not-a-token", want: ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := standard
			if tc.keys != nil {
				keys = tc.keys
			}
			opts := tc.opts
			opts.Now = fixedNow
			v, err := Verify(context.Background(), tc.token, StaticKeys(keys), opts)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if v.Claims["sub"] != "user-1" {
					t.Errorf("sub = %v, want user-1", v.Claims["sub"])
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want reason %v", err, tc.want)
			}
			var te *TokenError
			if !errors.As(err, &te) {
				t.Errorf("error %T is not a *TokenError", err)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("message %q does not say %q", err.Error(), tc.says)
			}
			if strings.Contains(err.Error(), tc.token) {
				t.Errorf("error message quotes the token: %v", err)
			}
		})
	}
}

// tamper replaces a token's payload, keeping its header and signature.
func tamper(t testing.TB, token string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	forged := strings.Split(unsecured(t, "none", claims), ".")
	return parts[0] + "." + forged[1] + "." + parts[2]
}

func TestVerifyReportsWhatItVerified(t *testing.T) {
	key := newECKey(t, elliptic.P256())
	claims := claimsWith(map[string]any{
		"aud": []string{"a", "b"},
		"nbf": testNow.Add(-time.Minute).Unix(),
	})
	tok := mint(t, "ES256", key, "", claims, nil)
	v, err := Verify(context.Background(), " "+tok+"\n", StaticKeys(jwkSet(jwk(key, "ec-1", "", ""))),
		VerifyOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"key id", v.KeyID, "ec-1"},
		{"algorithm", v.Algorithm, "ES256"},
		{"issuer", v.Issuer, "https://idp.example"},
		{"subject", v.Subject, "user-1"},
		{"audience", strings.Join(v.Audience, ","), "a,b"},
		{"expires at", v.ExpiresAt, testNow.Add(time.Hour)},
		{"issued at", v.IssuedAt, testNow},
		{"not before", v.NotBefore, testNow.Add(-time.Minute)},
		{"header typ", v.Header["typ"], "JWT"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestVerifyRefetchesTheJWKSOnceForAnUnknownKid(t *testing.T) {
	oldKey := newECKey(t, elliptic.P256())
	newKey := newECKey(t, elliptic.P256())
	oldSet := jwkSet(jwk(oldKey, "2023", "", "sig"))
	rotated := jwkSet(jwk(oldKey, "2023", "", "sig"), jwk(newKey, "2024", "", "sig"))
	edKey := newEdKey(t)

	tests := []struct {
		name        string
		token       string
		before      *gojose.JSONWebKeySet // default oldSet
		after       *gojose.JSONWebKeySet
		want        error
		wantCalls   int
		wantForced  int
		wantMessage string
	}{
		{name: "a known kid is verified from the cached set without a refetch",
			token: mint(t, "ES256", oldKey, "2023", claimsWith(nil), nil), after: rotated,
			wantCalls: 1, wantForced: 0},
		{name: "a kid added by rotation is found after one refetch",
			token: mint(t, "ES256", newKey, "2024", claimsWith(nil), nil), after: rotated,
			wantCalls: 2, wantForced: 1},
		{name: "a kid missing even after the refetch is refused",
			token: mint(t, "ES256", newKey, "2025", claimsWith(nil), nil), after: rotated,
			want: ErrUnknownKID, wantCalls: 2, wantForced: 1,
			wantMessage: "no key with kid 2025 in the IdP's JWKS"},
		{name: "a token without kid whose key arrived by rotation is found after one refetch",
			token:  mint(t, "EdDSA", edKey, "", claimsWith(nil), nil),
			before: oldSet, after: jwkSet(jwk(oldKey, "2023", "", ""), jwk(edKey, "ed", "", "")),
			wantCalls: 2, wantForced: 1},
		{name: "a token without kid is refused at once when two keys fit",
			token:  mint(t, "ES256", oldKey, "", claimsWith(nil), nil),
			before: rotated, after: rotated,
			want: ErrNoKey, wantCalls: 1, wantForced: 0},
		{name: "a token without kid that no key fits even after the refetch is refused",
			token:  mint(t, "EdDSA", edKey, "", claimsWith(nil), nil),
			before: oldSet, after: rotated,
			want: ErrNoKey, wantCalls: 2, wantForced: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &countingSource{before: oldSet, after: tc.after}
			if tc.before != nil {
				src.before = tc.before
			}
			_, err := Verify(context.Background(), tc.token, src.source, VerifyOptions{Now: fixedNow})
			if tc.want == nil && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify error = %v, want reason %v", err, tc.want)
			}
			if tc.wantMessage != "" && err.Error() != tc.wantMessage {
				t.Errorf("message = %q, want %q", err.Error(), tc.wantMessage)
			}
			if src.calls != tc.wantCalls || src.forced != tc.wantForced {
				t.Errorf("JWKS fetched %d times (%d forced), want %d (%d forced)",
					src.calls, src.forced, tc.wantCalls, tc.wantForced)
			}
		})
	}
}

func TestVerifyWrapsKeySourceFailures(t *testing.T) {
	key := newECKey(t, elliptic.P256())
	down := errors.New("connection refused")
	src := func(context.Context, bool) (*gojose.JSONWebKeySet, error) { return nil, down }
	_, err := Verify(context.Background(), mint(t, "ES256", key, "k", claimsWith(nil), nil), src, VerifyOptions{Now: fixedNow})
	if !errors.Is(err, down) {
		t.Fatalf("error = %v, want it to wrap the source's error", err)
	}
	var te *TokenError
	if errors.As(err, &te) {
		t.Errorf("a fetch failure must not look like a bad token: %v", err)
	}
}

func TestVerifyRefusesUnsafeOptions(t *testing.T) {
	key := newECKey(t, elliptic.P256())
	tok := mint(t, "ES256", key, "k", claimsWith(nil), nil)
	tests := []struct {
		name string
		opts VerifyOptions
	}{
		{"alg none in the allowed list", VerifyOptions{AllowedAlgs: []string{"ES256", "none"}}},
		{"HS256 allowed without a shared secret", VerifyOptions{AllowedAlgs: []string{"HS256"}}},
		{"HS512 allowed with a secret shorter than 64 bytes", VerifyOptions{AllowedAlgs: []string{"HS512"}, SharedSecret: make([]byte, 32)}},
		{"an unknown algorithm", VerifyOptions{AllowedAlgs: []string{"RS1"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Now = fixedNow
			_, err := Verify(context.Background(), tok, StaticKeys(jwkSet(jwk(key, "k", "", ""))), tc.opts)
			if err == nil {
				t.Fatal("Verify accepted unsafe options")
			}
		})
	}
}
