package jose

import (
	"context"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const tokenEndpoint = "https://idp.example/oauth2/token"

func signersForEveryKeyType(t *testing.T) map[string]*Signer {
	t.Helper()
	out := map[string]*Signer{}
	for name, key := range map[string]any{
		"RSA":     newRSAKey(t),
		"P-256":   newECKey(t, elliptic.P256()),
		"P-384":   newECKey(t, elliptic.P384()),
		"Ed25519": newEdKey(t),
	} {
		s, err := newKeySigner(key, "", "")
		if err != nil {
			t.Fatal(err)
		}
		out[name] = s
	}
	return out
}

func TestClientAssertionVerifiesWithThePublishedJWKS(t *testing.T) {
	for name, s := range signersForEveryKeyType(t) {
		t.Run(name, func(t *testing.T) {
			tok, err := ClientAssertion(s, "client-42", tokenEndpoint, testNow, 0)
			if err != nil {
				t.Fatal(err)
			}
			pub, err := PublicJWKS(s)
			if err != nil {
				t.Fatal(err)
			}
			set, skipped, err := ParseJWKS(pub)
			if err != nil || len(skipped) != 0 {
				t.Fatalf("ParseJWKS: %v %v", err, skipped)
			}
			v, err := Verify(context.Background(), tok, StaticKeys(set), VerifyOptions{
				Issuer: "client-42", Audience: tokenEndpoint, Now: fixedNow, Leeway: -1,
			})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if v.Subject != "client-42" || v.KeyID != s.KeyID() || v.Algorithm != s.Alg() {
				t.Errorf("sub, kid, alg = %s, %s, %s", v.Subject, v.KeyID, v.Algorithm)
			}
		})
	}
}

func TestClientAssertionCarriesTheRFC7523Claims(t *testing.T) {
	s, err := newKeySigner(newECKey(t, elliptic.P256()), "", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		lifetime time.Duration
		wantLife int64
	}{
		{"no lifetime means 60 seconds", 0, 60},
		{"a 30 second lifetime", 30 * time.Second, 30},
		{"a 5 minute lifetime", 5 * time.Minute, 300},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ClientAssertion(s, "client-42", tokenEndpoint, testNow.Add(300*time.Millisecond), tc.lifetime)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Decode(tok)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]any{"iss": "client-42", "sub": "client-42", "aud": tokenEndpoint} {
				if d.Claims[name] != want {
					t.Errorf("%s = %v, want %v", name, d.Claims[name], want)
				}
			}
			iat, _ := d.Claims["iat"].(json.Number).Int64()
			exp, _ := d.Claims["exp"].(json.Number).Int64()
			if iat != testNow.Unix() {
				t.Errorf("iat = %d, want %d", iat, testNow.Unix())
			}
			if exp-iat != tc.wantLife {
				t.Errorf("exp - iat = %d, want %d", exp-iat, tc.wantLife)
			}
			jti, _ := d.Claims["jti"].(string)
			if raw, err := base64.RawURLEncoding.DecodeString(jti); err != nil || len(raw) < 16 {
				t.Errorf("jti %q is not 16+ random bytes", jti)
			}
			if _, ok := d.Claims["nbf"]; ok {
				t.Error("nbf is set")
			}
			if d.Header["kid"] != s.KeyID() || d.Header["alg"] != "ES256" || d.Header["typ"] != "JWT" {
				t.Errorf("header = %v", d.Header)
			}
		})
	}
}

func TestClientAssertionJTIsAreUnique(t *testing.T) {
	s, err := newKeySigner(newEdKey(t), "", "")
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool, 1000)
	for range 1000 {
		tok, err := ClientAssertion(s, "c", tokenEndpoint, testNow, 0)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(tok)
		if err != nil {
			t.Fatal(err)
		}
		jti := d.Claims["jti"].(string)
		if seen[jti] {
			t.Fatalf("jti %s repeated", jti)
		}
		seen[jti] = true
	}
}

func TestClientSecretJWTVerifiesWithTheSharedSecret(t *testing.T) {
	secret := []byte(strings.Repeat("q", 48))
	s, err := NewSecretSigner(secret, "HS384")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ClientAssertion(s, "client-42", tokenEndpoint, testNow, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(context.Background(), tok, nil, VerifyOptions{
		AllowedAlgs: []string{"HS384"}, SharedSecret: secret,
		Issuer: "client-42", Audience: tokenEndpoint, Now: fixedNow,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAssertionsRefuseMissingParts(t *testing.T) {
	s, err := newKeySigner(newEdKey(t), "", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() (string, error)
	}{
		{"a client assertion without client ID", func() (string, error) { return ClientAssertion(s, "", tokenEndpoint, testNow, 0) }},
		{"a client assertion without audience", func() (string, error) { return ClientAssertion(s, "c", "", testNow, 0) }},
		{"a client assertion without a time", func() (string, error) { return ClientAssertion(s, "c", tokenEndpoint, time.Time{}, 0) }},
		{"a client assertion living under a second", func() (string, error) {
			return ClientAssertion(s, "c", tokenEndpoint, testNow, 500*time.Millisecond)
		}},
		{"a client assertion with a negative lifetime", func() (string, error) { return ClientAssertion(s, "c", tokenEndpoint, testNow, -time.Minute) }},
		{"a client assertion without signer", func() (string, error) { return ClientAssertion(nil, "c", tokenEndpoint, testNow, 0) }},
		{"a user assertion without subject", func() (string, error) { return UserAssertion(s, "iss", "", tokenEndpoint, nil, testNow, 0) }},
		{"a user assertion without issuer", func() (string, error) { return UserAssertion(s, "", "u", tokenEndpoint, nil, testNow, 0) }},
		{"a user assertion whose extra claims replace sub", func() (string, error) {
			return UserAssertion(s, "iss", "u", tokenEndpoint, map[string]any{"sub": "admin"}, testNow, 0)
		}},
		{"a user assertion whose extra claims replace exp", func() (string, error) {
			return UserAssertion(s, "iss", "u", tokenEndpoint, map[string]any{"exp": 1 << 40}, testNow, 0)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tok, err := tc.call(); err == nil {
				t.Fatalf("accepted; made %d-byte token", len(tok))
			}
		})
	}
}

func TestUserAssertionNamesTheUserAndAddsExtraClaims(t *testing.T) {
	s, err := newKeySigner(newECKey(t, elliptic.P384()), "", "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := UserAssertion(s, "service-a", "alice@example.com", "https://idp.example",
		map[string]any{"scope": "read write", "tenant": "t1"}, testNow, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := PublicJWKS(s)
	if err != nil {
		t.Fatal(err)
	}
	set, _, err := ParseJWKS(pub)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Verify(context.Background(), tok, StaticKeys(set), VerifyOptions{
		Issuer: "service-a", Audience: "https://idp.example", Now: fixedNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	if v.Subject != "alice@example.com" || v.Claims["scope"] != "read write" || v.Claims["tenant"] != "t1" {
		t.Errorf("claims = %v", v.Claims)
	}
	if got := v.ExpiresAt.Sub(v.IssuedAt); got != 2*time.Minute {
		t.Errorf("exp - iat = %s, want 2m", got)
	}
	if _, ok := v.Claims["jti"].(string); !ok {
		t.Error("no jti")
	}
}
