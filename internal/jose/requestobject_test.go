package jose

import (
	"crypto/elliptic"
	"encoding/json"
	"strings"
	"testing"
	"time"

	gojose "github.com/go-jose/go-jose/v4"
)

func TestARequestObjectIsSignedWithTheClientKeyAndKeepsItsOwnClaims(t *testing.T) {
	s, err := newKeySigner(newECKey(t, elliptic.P256()), "ES256", "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	jwt, err := RequestObject(s, "cli", "https://idp.example", map[string]any{"state": "s", "resource": []string{"a", "b"}}, now, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := gojose.ParseSigned(jwt, []gojose.SignatureAlgorithm{gojose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := jws.Signatures[0].Protected
	if h.ExtraHeaders["typ"] != RequestObjectType || h.KeyID != s.KeyID() {
		t.Fatalf("header typ %v kid %q", h.ExtraHeaders["typ"], h.KeyID)
	}
	payload, err := jws.Verify(publicOf(s.key))
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(payload, &c)
	if c["iss"] != "cli" || c["aud"] != "https://idp.example" || c["state"] != "s" || c["exp"] != float64(now.Unix()+60) || c["jti"] == "" {
		t.Fatalf("claims %v", c)
	}
	if _, err := RequestObject(s, "cli", "https://idp.example", map[string]any{"iss": "evil"}, now, 0); err == nil || !strings.Contains(err.Error(), "iss") {
		t.Fatalf("a parameter replacing iss: %v", err)
	}
	secret, _ := NewSecretSigner([]byte(strings.Repeat("k", 32)), "HS256")
	if _, err := RequestObject(secret, "cli", "https://idp.example", nil, now, 0); err == nil {
		t.Fatal("a shared secret signed a request object")
	}
}
