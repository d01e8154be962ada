package jose

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"sync"
	"testing"
	"time"

	gojose "github.com/go-jose/go-jose/v4"
)

// testNow is the clock every verification test runs at.
var testNow = time.Unix(1_700_000_000, 0).UTC()

func fixedNow() time.Time { return testNow }

func newRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newECKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEdKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// mint signs claims with go-jose directly, independent of this package's
// Signer, with optional extra protected-header members.
func mint(t testing.TB, alg string, key any, kid string, claims map[string]any, header map[string]any) string {
	t.Helper()
	opts := (&gojose.SignerOptions{}).WithType("JWT")
	for k, v := range header {
		opts.WithHeader(gojose.HeaderKey(k), v)
	}
	signer, err := gojose.NewSigner(gojose.SigningKey{
		Algorithm: gojose.SignatureAlgorithm(alg),
		Key:       &gojose.JSONWebKey{Key: key, KeyID: kid},
	}, opts)
	if err != nil {
		t.Fatalf("new signer: %v", err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// unsecured builds an "alg": "none" JWT (RFC 7519 §6), which go-jose cannot sign.
func unsecured(t testing.TB, alg string, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]any{"alg": alg, "typ": "JWT"})
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

// claimsWith returns valid claims for testNow, changed by the overrides; a
// nil override value removes the claim.
func claimsWith(overrides map[string]any) map[string]any {
	c := map[string]any{
		"iss": "https://idp.example",
		"sub": "user-1",
		"aud": "api://default",
		"iat": testNow.Unix(),
		"exp": testNow.Add(time.Hour).Unix(),
	}
	for k, v := range overrides {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

func jwk(key any, kid, alg, use string) gojose.JSONWebKey {
	return gojose.JSONWebKey{Key: publicOf(key), KeyID: kid, Algorithm: alg, Use: use}
}

func jwkSet(keys ...gojose.JSONWebKey) *gojose.JSONWebKeySet {
	return &gojose.JSONWebKeySet{Keys: keys}
}

// countingSource serves before until asked to refresh, then after, and
// counts the calls of each kind.
type countingSource struct {
	mu            sync.Mutex
	before, after *gojose.JSONWebKeySet
	calls, forced int
}

func (c *countingSource) source(_ context.Context, force bool) (*gojose.JSONWebKeySet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if force {
		c.forced++
		return c.after, nil
	}
	return c.before, nil
}
