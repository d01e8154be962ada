package jose

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"

	gojose "github.com/go-jose/go-jose/v4"
)

// Signer signs JWTs with a private key or a shared secret. It is immutable
// and safe for concurrent use. Its String method never shows key material.
type Signer struct {
	alg gojose.SignatureAlgorithm
	kid string
	key any // *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey or []byte
	// headers are extra protected header members (x5t, x5t#S256).
	headers map[gojose.HeaderKey]any
}

// Alg is the JWS algorithm the signer uses.
func (s *Signer) Alg() string { return string(s.alg) }

// KeyID is the kid put in the header of every signed token; "" for a shared
// secret without one.
func (s *Signer) KeyID() string { return s.kid }

// String describes the signer without its key, so that printing one by
// mistake leaks nothing.
func (s Signer) String() string {
	return fmt.Sprintf("jose.Signer(alg=%s kid=%q)", s.alg, s.kid)
}

// GoString keeps %#v from printing the key.
func (s Signer) GoString() string { return s.String() }

// Sign serialises claims as the payload of a compact JWS with typ "JWT" and
// the signer's kid.
func (s *Signer) Sign(claims map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign JWT: encode claims: %w", err)
	}
	opts := (&gojose.SignerOptions{}).WithType("JWT")
	for k, v := range s.headers {
		opts = opts.WithHeader(k, v)
	}
	signer, err := gojose.NewSigner(
		gojose.SigningKey{Algorithm: s.alg, Key: &gojose.JSONWebKey{Key: s.key, KeyID: s.kid}}, opts)
	if err != nil {
		return "", fmt.Errorf("sign JWT with %s: %w", s.alg, err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign JWT with %s: %w", s.alg, err)
	}
	return obj.CompactSerialize()
}

// NewSecretSigner signs with a client secret, for client_secret_jwt (OIDC
// Core §9). alg is HS256 (the default when empty), HS384 or HS512. The secret
// must be at least as long as the hash output (RFC 7518 §3.2); the IdP would
// have to accept a weaker key, and go-jose rightly refuses to make one.
func NewSecretSigner(secret []byte, alg string) (*Signer, error) {
	if alg == "" {
		alg = "HS256"
	}
	if !isHMAC(alg) {
		return nil, fmt.Errorf("shared-secret signer: alg %s is not HS256, HS384 or HS512", alg)
	}
	if need := hmacKeyLen(alg); len(secret) < need {
		return nil, fmt.Errorf("shared-secret signer: the secret is %d bytes; %s needs at least %d (RFC 7518 §3.2)",
			len(secret), alg, need)
	}
	return &Signer{alg: gojose.SignatureAlgorithm(alg), key: bytes.Clone(secret)}, nil
}

// KeyFileWarning reports a private key file that other users can read. The
// key is still loaded; the caller decides how loudly to say so.
type KeyFileWarning struct {
	Path string
	Mode fs.FileMode
}

func (w *KeyFileWarning) String() string {
	return fmt.Sprintf("private key file %s is readable by other users (mode %04o); run: chmod 600 %s",
		w.Path, w.Mode.Perm(), w.Path)
}

// maxKeyFileSize bounds what LoadSigningKey reads; a real key file is a few KB.
const maxKeyFileSize = 1 << 20

// LoadSigningKey reads a private key for private_key_jwt or the jwt-bearer
// grant: PEM (PKCS#8, PKCS#1 RSA, SEC1 EC) or a JWK (or a JWK Set holding one
// key) with its private members. See ParseSigningKey for how alg and kid are
// chosen. A file readable by group or others yields a warning, not an error.
func LoadSigningKey(path string) (*Signer, *KeyFileWarning, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open signing key: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("open signing key: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("signing key %s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read signing key %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, nil, fmt.Errorf("signing key %s is larger than %d bytes; not a key file", path, maxKeyFileSize)
	}
	s, err := ParseSigningKey(data)
	if err != nil {
		return nil, nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	var warn *KeyFileWarning
	// Windows permissions are ACLs that fs.FileMode does not reflect.
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		warn = &KeyFileWarning{Path: path, Mode: info.Mode()}
	}
	return s, warn, nil
}

// ParseSigningKey parses a private key held in memory (from a file, the
// keychain or stdin), in the formats LoadSigningKey accepts.
//
// The algorithm is the JWK's "alg" when it has one, else RS256 for RSA, ES256,
// ES384 or ES512 by curve for EC, and EdDSA for Ed25519. The kid is the JWK's
// "kid" when it has one, else the key's RFC 7638 SHA-256 thumbprint, which an
// IdP can recompute from the registered public key. A JWK of type oct becomes
// an HMAC signer. Errors never include key material.
func ParseSigningKey(data []byte) (*Signer, error) {
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")):
		return parseJWKSigner(trimmed)
	case bytes.Contains(trimmed, []byte("-----BEGIN")):
		key, err := parsePEMKey(trimmed)
		if err != nil {
			return nil, err
		}
		return newKeySigner(key, "", "")
	default:
		return nil, errors.New("not a PEM or JWK private key")
	}
}

func parsePEMKey(data []byte) (any, error) {
	var found any
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var key any
		var err error
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			if _, ok := block.Headers["Proc-Type"]; ok {
				return nil, errors.New("the PEM key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)")
			}
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			if _, ok := block.Headers["Proc-Type"]; ok {
				return nil, errors.New("the PEM key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)")
			}
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the PEM key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)")
		default:
			// EC PARAMETERS (written by `openssl ecparam -genkey`),
			// certificates and public keys may sit beside the key.
			continue
		}
		if err != nil {
			// x509 errors describe the structure, never the key bytes.
			return nil, fmt.Errorf("parse PEM %s: %w", block.Type, err)
		}
		if found != nil {
			return nil, errors.New("the PEM file holds more than one private key")
		}
		found = key
	}
	if found == nil {
		return nil, errors.New("no private key in the PEM data")
	}
	return found, nil
}

func parseJWKSigner(data []byte) (*Signer, error) {
	// Validate with encoding/json first, whose errors can be reduced to an
	// offset; go-jose's own parser would quote the offending character.
	var probe struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("parse JWK: %w", jsonError(err))
	}
	if probe.Keys != nil {
		if len(probe.Keys) != 1 {
			return nil, fmt.Errorf("the JWK Set holds %d keys; give a file with exactly one", len(probe.Keys))
		}
		data = probe.Keys[0]
	}
	var jwk gojose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		if errors.Is(err, gojose.ErrUnsupportedKeyType) {
			return nil, errors.New("parse JWK: unsupported key type")
		}
		// go-jose's messages name the member at fault, not its value.
		return nil, fmt.Errorf("parse JWK: %w", err)
	}
	if secret, ok := jwk.Key.([]byte); ok {
		s, err := NewSecretSigner(secret, jwk.Algorithm)
		if err != nil {
			return nil, err
		}
		s.kid = jwk.KeyID
		return s, nil
	}
	if jwk.IsPublic() {
		return nil, errors.New("the JWK is a public key; a signing key needs its private members")
	}
	if jwk.Use != "" && jwk.Use != "sig" {
		return nil, fmt.Errorf("the JWK's use is %q, not \"sig\"", jwk.Use)
	}
	return newKeySigner(jwk.Key, jwk.Algorithm, jwk.KeyID)
}

// newKeySigner builds a signer for a private key, choosing alg and kid when
// not given.
func newKeySigner(key any, alg, kid string) (*Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if alg == "" {
			alg = "RS256"
		}
	case *ecdsa.PrivateKey:
		if alg == "" {
			alg = curveAlg(k.Curve)
			if alg == "" {
				return nil, fmt.Errorf("EC curve %s is not usable for JWS (RFC 7518 §3.4)", k.Curve.Params().Name)
			}
		}
	case ed25519.PrivateKey:
		if alg == "" {
			alg = "EdDSA"
		}
	default:
		return nil, fmt.Errorf("unsupported private key type %T", key)
	}
	if why := algFitsKey(alg, publicOf(key)); why != "" {
		return nil, fmt.Errorf("the key does not fit alg %s: %s", alg, why)
	}
	if kid == "" {
		jwk := gojose.JSONWebKey{Key: publicOf(key)}
		tp, err := jwk.Thumbprint(crypto.SHA256)
		if err != nil {
			return nil, fmt.Errorf("compute key thumbprint: %w", err)
		}
		kid = base64.RawURLEncoding.EncodeToString(tp)
	}
	return &Signer{alg: gojose.SignatureAlgorithm(alg), kid: kid, key: key}, nil
}

// PublicJWKS returns a JWK Set holding the signer's public key with its kid,
// alg and use "sig", ready to register with an IdP as the client's jwks. A
// shared-secret signer has no public part and yields an error.
func PublicJWKS(s *Signer) ([]byte, error) {
	if _, ok := s.key.([]byte); ok {
		return nil, errors.New("a shared-secret signer has no public key to publish")
	}
	set := gojose.JSONWebKeySet{Keys: []gojose.JSONWebKey{{
		Key:       publicOf(s.key),
		KeyID:     s.kid,
		Algorithm: string(s.alg),
		Use:       "sig",
	}}}
	out, err := json.MarshalIndent(set, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode public JWKS: %w", err)
	}
	return out, nil
}
