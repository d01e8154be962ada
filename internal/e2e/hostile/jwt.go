package hostile

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// The JWTs here are assembled by hand rather than with a JOSE library: the
// point is to make tokens a careful library refuses to produce (alg none,
// HMAC keyed with a public key).

func rsaKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	return k, nil
}

// JWKSWithKeyID is a JWK Set holding the server's public key under kid,
// pinned to RS256 (RFC 7517 §4.4).
func (s *Server) JWKSWithKeyID(kid string) map[string]any {
	pub := s.key.PublicKey
	return map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
		"n": b64(pub.N.Bytes()),
		"e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}

// PublicKeyPEM is the server's public key as a PEM "PUBLIC KEY" document:
// the bytes an algorithm-confusion attacker uses as an HMAC secret.
func (s *Server) PublicKeyPEM() []byte {
	der, _ := x509.MarshalPKIXPublicKey(&s.key.PublicKey) // an RSA key always marshals
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Claims are the claims of a token this server would issue now: its
// issuer, a subject, an audience, iat now and exp in an hour. extra is
// laid over them; a nil value removes a claim.
func (s *Server) Claims(extra map[string]any) map[string]any {
	now := time.Now().Unix()
	c := map[string]any{
		"iss": s.Issuer, "sub": "hostile-user", "aud": "hostile-api",
		"iat": now, "exp": now + 3600, "jti": randomHex(8),
	}
	for k, v := range extra {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}

// SignRS256 signs claims with the server's key, with kid in the header
// (none when kid is empty).
func (s *Server) SignRS256(kid string, claims map[string]any) string {
	header := map[string]any{"alg": "RS256", "typ": "JWT"}
	if kid != "" {
		header["kid"] = kid
	}
	input := signingInput(header, claims)
	sum := sha256.Sum256([]byte(input))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:]) // cannot fail for a 2048-bit key and SHA-256
	return input + "." + b64(sig)
}

// Unsigned is a token with alg none and an empty signature (RFC 7519 §6.1),
// naming the server's kid as if it were signed.
func (s *Server) Unsigned(claims map[string]any) string {
	return signingInput(map[string]any{"alg": "none", "typ": "JWT", "kid": KeyID}, claims) + "."
}

// HS256WithPublicKey is the algorithm-confusion token (RFC 8725 §2.1): HS256,
// keyed with the PEM of the RSA public key the JWKS publishes for RS256. A
// verifier that lets the header choose the algorithm, and uses the key's
// bytes as an HMAC secret, accepts it.
func (s *Server) HS256WithPublicKey(claims map[string]any) string {
	input := signingInput(map[string]any{"alg": "HS256", "typ": "JWT", "kid": KeyID}, claims)
	mac := hmac.New(sha256.New, s.PublicKeyPEM())
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

func signingInput(header, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return b64(h) + "." + b64(c)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
