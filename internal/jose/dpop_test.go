package jose

import (
	"crypto"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	gojose "github.com/go-jose/go-jose/v4"
)

func TestADPoPProofCarriesTheRFC9449ClaimsAndVerifiesWithItsEmbeddedKey(t *testing.T) {
	for _, alg := range DPoPAlgorithms {
		t.Run(alg, func(t *testing.T) {
			k, err := NewDPoPKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Unix(1_700_000_000, 0)
			proof, err := k.Proof(DPoPProofRequest{Method: "get", URL: "https://rs.example/api/items?id=1#frag", AccessToken: "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU", Nonce: "n-1", Now: now})
			if err != nil {
				t.Fatal(err)
			}
			jws, err := gojose.ParseSigned(proof, []gojose.SignatureAlgorithm{gojose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			h := jws.Signatures[0].Protected
			if h.ExtraHeaders["typ"] != "dpop+jwt" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || h.KeyID != "" {
				t.Fatalf("header typ %v jwk %v kid %q", h.ExtraHeaders["typ"], h.JSONWebKey, h.KeyID)
			}
			payload, err := jws.Verify(h.JSONWebKey)
			if err != nil {
				t.Fatal(err)
			}
			var c map[string]any
			_ = json.Unmarshal(payload, &c)
			want := map[string]any{"htm": "GET", "htu": "https://rs.example/api/items", "iat": float64(now.Unix()), "nonce": "n-1", "ath": "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"} // RFC 9449 §7.1
			for k, v := range want {
				if c[k] != v {
					t.Errorf("%s = %v, want %v", k, c[k], v)
				}
			}
			if jti, _ := c["jti"].(string); len(jti) < 16 {
				t.Errorf("jti %q is too short to be unique", jti)
			}
			tp, _ := h.JSONWebKey.Thumbprint(crypto.SHA256)
			if base64.RawURLEncoding.EncodeToString(tp) != k.Thumbprint() {
				t.Error("the thumbprint is not the RFC 7638 thumbprint of the embedded key")
			}
			again, _ := k.Proof(DPoPProofRequest{Method: "GET", URL: "https://rs.example/api/items", Now: now})
			if again == proof {
				t.Error("two proofs are identical: the jti must differ")
			}
		})
	}
}

func TestADPoPKeySurvivesTheStoreAndNeverPrintsItsPrivatePart(t *testing.T) {
	k, err := NewDPoPKey("")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	var jwk map[string]any
	_ = json.Unmarshal(raw, &jwk)
	d, _ := jwk["d"].(string)
	if d == "" || jwk["alg"] != "ES256" {
		t.Fatalf("stored form lacks the private key or alg: %v", jwk["alg"])
	}
	back, err := ParseDPoPKey(raw)
	if err != nil || back.Thumbprint() != k.Thumbprint() || back.Alg() != "ES256" {
		t.Fatalf("round trip: %v %v", back, err)
	}
	for _, s := range []string{k.String(), fmt.Sprintf("%v %+v %#v", k, k, k), fmt.Sprintf("%v", *k)} {
		if strings.Contains(s, d) {
			t.Fatalf("the private key shows in %q", s)
		}
	}
	pub, _ := k.PublicJWK()
	if strings.Contains(string(pub), d) {
		t.Fatal("the public JWK holds the private key")
	}
	if _, err := ParseDPoPKey(pub); err == nil {
		t.Fatal("a public key was accepted as a DPoP key")
	}
	if _, err := ParseDPoPKey([]byte(`{"kty":"EC","d":"` + d + `"`)); err == nil || strings.Contains(err.Error(), d) {
		t.Fatalf("a broken key: %v", err)
	}
}

func TestDPoPProofsRefuseWhatIsNotARequest(t *testing.T) {
	k, _ := NewDPoPKey("ES256")
	now := time.Now()
	for name, r := range map[string]DPoPProofRequest{
		"no method":       {URL: "https://a.example/", Now: now},
		"a relative URL":  {Method: "GET", URL: "/api", Now: now},
		"another scheme":  {Method: "GET", URL: "ftp://a.example/", Now: now},
		"no current time": {Method: "GET", URL: "https://a.example/"},
	} {
		if _, err := k.Proof(r); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := NewDPoPKey("RS256"); err == nil {
		t.Error("RS256 is not offered for DPoP keys")
	}
}

func TestAProofMethodIsAnHTTPMethodInUpperCase(t *testing.T) {
	for in, want := range map[string]string{"get": "GET", " PATCH ": "PATCH", "M-SEARCH": "M-SEARCH"} {
		if got, err := ProofMethod(in); err != nil || got != want {
			t.Errorf("ProofMethod(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "G ET", "GET\r\nX: y", "PÖST"} {
		if _, err := ProofMethod(bad); err == nil {
			t.Errorf("ProofMethod(%q) accepted", bad)
		}
	}
}
