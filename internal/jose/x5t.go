package jose

import (
	"crypto"
	"crypto/sha1" //nolint:gosec // x5t is defined as a SHA-1 thumbprint (RFC 7515 §4.1.7)
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"maps"

	gojose "github.com/go-jose/go-jose/v4"
)

// WithCertificate returns a copy of s whose tokens name, in their header,
// the X.509 certificate in pemData that holds s's public key: x5t#S256 and
// x5t (RFC 7515 §4.1.7-8). Microsoft's identity platform finds the
// registered certificate of a client assertion by these thumbprints. It is
// an error when pemData holds no certificate for s's key.
func WithCertificate(s *Signer, pemData []byte) (*Signer, error) {
	pub := publicOf(s.key)
	if _, secret := s.key.([]byte); secret || pub == nil {
		return nil, errors.New("a shared-secret signer has no certificate")
	}
	for rest := pemData; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no certificate for the private key in the PEM data (put the certificate beside the key)")
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			continue
		}
		eq, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
		if !ok || !eq.Equal(pub) {
			continue
		}
		s1 := sha1.Sum(cert.Raw) //nolint:gosec
		s256 := sha256.Sum256(cert.Raw)
		out := *s
		out.headers = maps.Clone(s.headers)
		if out.headers == nil {
			out.headers = map[gojose.HeaderKey]any{}
		}
		out.headers["x5t"] = base64.RawURLEncoding.EncodeToString(s1[:])
		out.headers["x5t#S256"] = base64.RawURLEncoding.EncodeToString(s256[:])
		return &out, nil
	}
}
