package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	gojose "github.com/go-jose/go-jose/v4"
)

// DPoPAlgorithms are the algorithms a DPoP key can be made for. RFC 9449 §5.1
// leaves the choice to the IdP's dpop_signing_alg_values_supported; ES256 is
// the one every IdP seen so far accepts, so it is the default.
var DPoPAlgorithms = []string{"ES256", "ES384", "EdDSA"}

// DefaultDPoPAlgorithm is used when a profile names none.
const DefaultDPoPAlgorithm = "ES256"

// DPoPKey is a key pair proving possession for DPoP-bound tokens (RFC 9449).
// Its String and GoString never show the private key.
type DPoPKey struct {
	alg        gojose.SignatureAlgorithm
	key        crypto.Signer
	thumbprint string
}

// NewDPoPKey generates a key for alg (DefaultDPoPAlgorithm when empty).
func NewDPoPKey(alg string) (*DPoPKey, error) {
	if alg == "" {
		alg = DefaultDPoPAlgorithm
	}
	var key crypto.Signer
	var err error
	switch alg {
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("DPoP algorithm %q is not supported: choose one of %s", alg, strings.Join(DPoPAlgorithms, ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("generate DPoP key: %w", err)
	}
	return newDPoPKey(key, alg)
}

func newDPoPKey(key crypto.Signer, alg string) (*DPoPKey, error) {
	if why := algFitsKey(alg, key.Public()); why != "" {
		return nil, fmt.Errorf("the DPoP key does not fit alg %s: %s", alg, why)
	}
	jwk := gojose.JSONWebKey{Key: key.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("compute DPoP key thumbprint: %w", err)
	}
	return &DPoPKey{alg: gojose.SignatureAlgorithm(alg), key: key, thumbprint: base64.RawURLEncoding.EncodeToString(tp)}, nil
}

// ParseDPoPKey reads a key written by MarshalPrivate.
func ParseDPoPKey(data []byte) (*DPoPKey, error) {
	var jwk gojose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		// The error of go-jose may quote key members; name only the problem.
		return nil, errors.New("the stored DPoP key is not a valid JWK")
	}
	signer, ok := jwk.Key.(crypto.Signer)
	if !ok || jwk.IsPublic() {
		return nil, errors.New("the stored DPoP key holds no private key")
	}
	alg := jwk.Algorithm
	if alg == "" {
		alg = DefaultDPoPAlgorithm
	}
	return newDPoPKey(signer, alg)
}

// MarshalPrivate returns the private JWK, for the credential store only.
func (k *DPoPKey) MarshalPrivate() ([]byte, error) {
	return json.Marshal(gojose.JSONWebKey{Key: k.key, Algorithm: string(k.alg)})
}

// Alg is the JWS algorithm of the proofs.
func (k *DPoPKey) Alg() string { return string(k.alg) }

// Thumbprint is the RFC 7638 SHA-256 thumbprint of the public key, base64url:
// the jkt an IdP puts in a bound token's cnf claim (RFC 9449 §6.1).
func (k *DPoPKey) Thumbprint() string { return k.thumbprint }

// PublicJWK is the public key as JSON.
func (k *DPoPKey) PublicJWK() ([]byte, error) {
	return json.Marshal(gojose.JSONWebKey{Key: k.key.Public(), Algorithm: string(k.alg), Use: "sig"})
}

func (k DPoPKey) String() string {
	return fmt.Sprintf("jose.DPoPKey(alg=%s jkt=%s)", k.alg, k.thumbprint)
}

// GoString keeps %#v from printing the key.
func (k DPoPKey) GoString() string { return k.String() }

// DPoPProofRequest is what one proof is for.
type DPoPProofRequest struct {
	Method string // htm
	URL    string // htu; query and fragment are dropped (RFC 9449 §4.2)
	// AccessToken, when set, is hashed into ath (RFC 9449 §4.2), required
	// when the proof accompanies an access token at a resource.
	AccessToken string
	// Nonce is the server's last DPoP-Nonce (RFC 9449 §8, §9).
	Nonce string
	Now   time.Time
}

// Proof signs a DPoP proof JWT (RFC 9449 §4.2): typ dpop+jwt, the public
// key in the jwk header, and jti, htm, htu, iat, plus ath and nonce when
// given. Each call makes a new jti: a proof is single-use (§11.1).
// ProofMethod checks an htm value and returns it in upper case: an HTTP
// method as RFC 9110 §9.1 names them (extension methods allowed).
func ProofMethod(m string) (string, error) {
	m = strings.ToUpper(strings.TrimSpace(m))
	if m == "" {
		return "", errors.New("DPoP proof: no HTTP method")
	}
	if len(m) > 32 {
		return "", errors.New("DPoP proof: the HTTP method is too long")
	}
	for _, r := range m {
		if !(r >= 'A' && r <= 'Z') && r != '-' && r != '_' {
			return "", fmt.Errorf("DPoP proof: %q is not an HTTP method", m)
		}
	}
	return m, nil
}

func (k *DPoPKey) Proof(r DPoPProofRequest) (string, error) {
	htm, err := ProofMethod(r.Method)
	if err != nil {
		return "", err
	}
	htu, err := ProofURL(r.URL)
	if err != nil {
		return "", err
	}
	if r.Now.IsZero() {
		return "", errors.New("DPoP proof: no current time")
	}
	jti := make([]byte, jtiBytes)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("DPoP proof: generate jti: %w", err)
	}
	claims := map[string]any{
		"jti": base64.RawURLEncoding.EncodeToString(jti),
		"htm": htm,
		"htu": htu,
		"iat": r.Now.Unix(),
	}
	if r.AccessToken != "" {
		claims["ath"] = AccessTokenHash(r.AccessToken)
	}
	if r.Nonce != "" {
		claims["nonce"] = r.Nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("DPoP proof: encode claims: %w", err)
	}
	opts := (&gojose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	signer, err := gojose.NewSigner(gojose.SigningKey{Algorithm: k.alg, Key: k.key}, opts)
	if err != nil {
		return "", fmt.Errorf("DPoP proof: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("DPoP proof: sign: %w", err)
	}
	return obj.CompactSerialize()
}

// ProofURL is the htu of a request URL: scheme, host and path, without query
// or fragment (RFC 9449 §4.2, §4.3 item 9).
func ProofURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("DPoP proof: %q is not an absolute http(s) URL", raw)
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.User = "", "", "", nil
	return u.String(), nil
}

// AccessTokenHash is the ath of RFC 9449 §4.2: base64url SHA-256 of the
// token's ASCII form.
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
