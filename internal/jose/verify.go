package jose

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	gojose "github.com/go-jose/go-jose/v4"
)

// KeySource returns the IdP's JWKS. With forceRefresh it must bypass any
// cache and fetch again; Verify asks for that at most once per call, when the
// token names a key the cached set does not have (key rotation).
type KeySource func(ctx context.Context, forceRefresh bool) (*gojose.JSONWebKeySet, error)

// StaticKeys is a KeySource that always returns set, for keys known in
// advance (a file, a test).
func StaticKeys(set *gojose.JSONWebKeySet) KeySource {
	return func(context.Context, bool) (*gojose.JSONWebKeySet, error) { return set, nil }
}

// DefaultAllowedAlgs returns the asymmetric algorithms Verify accepts unless
// told otherwise. HMAC is left out: a verifier holding only public keys must
// never treat one of them as an HMAC secret (RFC 8725 §2.1).
func DefaultAllowedAlgs() []string {
	return []string{
		"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512", "EdDSA",
	}
}

// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
const DefaultLeeway = 60 * time.Second

// VerifyOptions says what a token must satisfy beyond a good signature.
type VerifyOptions struct {
	// Issuer, when set, must equal the iss claim exactly.
	Issuer string
	// Audience, when set, must be the aud claim or one of its members.
	Audience string
	// AllowedAlgs defaults to DefaultAllowedAlgs(). "none" is never allowed.
	// HS256/HS384/HS512 are allowed only when listed here and SharedSecret is
	// set; HMAC tokens are then checked against SharedSecret and never
	// against the JWKS.
	AllowedAlgs []string
	// SharedSecret verifies HS* tokens, e.g. an ID token issued to a
	// confidential client that registered an HS* id_token_signed_response_alg
	// (OIDC Core §10.1).
	SharedSecret []byte
	// Leeway is the clock skew tolerated; zero means DefaultLeeway and a
	// negative value means none.
	Leeway time.Duration
	// Now defaults to time.Now.
	Now func() time.Time
	// Nonce, when set, must equal the nonce claim (ID tokens, OIDC Core §3.1.3.7).
	Nonce string
}

// Verified is a token whose signature and claims passed every check.
type Verified struct {
	Header map[string]any
	// Claims holds the payload; numbers are json.Number.
	Claims map[string]any
	// KeyID is the kid of the key that verified the signature ("" for a key
	// without one, or for HMAC without a kid header).
	KeyID     string
	Algorithm string
	Issuer    string
	Subject   string
	Audience  []string
	// ExpiresAt, IssuedAt and NotBefore are zero when the claim is absent.
	ExpiresAt time.Time
	IssuedAt  time.Time
	NotBefore time.Time
}

// Verify checks a compact JWS against the keys from keys and the rules in
// opts (RFC 7515, RFC 7519 §7.2, RFC 8725):
//
//   - the algorithm must be allowed, is never "none", and is pinned by the
//     key: a key's "alg", when present, must equal the header's, and its type
//     must fit the algorithm's family, so an HS256 header is never checked
//     with an RSA key's bytes and an oct key from a JWKS is never used;
//   - the key is chosen by kid; an unknown kid makes Verify ask keys for a
//     fresh set once before giving up; without a kid exactly one key may fit;
//   - a key whose "use" is present must say "sig";
//   - exp, nbf and iat are checked with leeway; iss, aud and nonce when asked.
//
// A token that fails is reported with a *TokenError. Errors from keys and
// from bad options are returned wrapped and carry no Reason.
func Verify(ctx context.Context, token string, keys KeySource, opts VerifyOptions) (*Verified, error) {
	allowed, err := opts.allowedAlgs()
	if err != nil {
		return nil, err
	}
	d, err := Decode(token)
	if err != nil {
		return nil, err
	}
	alg, ok := d.Header["alg"].(string)
	if !ok || alg == "" {
		return nil, tokenErr(ErrMalformed, "token header has no alg")
	}
	if strings.EqualFold(alg, "none") {
		return nil, tokenErr(ErrAlgNotAllowed, "unsigned token (alg none) is never accepted (RFC 8725 §3.1)")
	}
	if !slices.Contains(allowed, alg) {
		return nil, tokenErr(ErrAlgNotAllowed, fmt.Sprintf(
			"token alg %s is not allowed (allowed: %s)", alg, strings.Join(allowed, ", ")))
	}
	// go-jose understands "b64" as a critical parameter, but an unencoded
	// payload is not a JWT (RFC 7797 §7), and nothing else may be critical
	// here (RFC 7515 §4.1.11).
	if _, ok := d.Header["crit"]; ok {
		return nil, tokenErr(ErrMalformed, "token header has critical parameters this verifier does not understand")
	}
	if _, ok := d.Header["b64"]; ok {
		return nil, tokenErr(ErrMalformed, "token uses an unencoded payload (b64), which a JWT may not (RFC 7797 §7)")
	}
	kid, _ := d.Header["kid"].(string)

	jws, err := gojose.ParseSignedCompact(d.Raw, []gojose.SignatureAlgorithm{gojose.SignatureAlgorithm(alg)})
	if err != nil {
		return nil, tokenErr(ErrMalformed, "token is not a valid compact JWS")
	}

	var cands []candidate
	if isHMAC(alg) {
		cands = []candidate{{key: opts.SharedSecret, kid: kid}}
	} else {
		cands, err = chooseKeys(ctx, keys, alg, kid)
		if err != nil {
			return nil, err
		}
	}

	var payload []byte
	var used candidate
	for _, c := range cands {
		if p, err := jws.Verify(c.key); err == nil {
			payload, used = p, c
			break
		}
	}
	if payload == nil {
		detail := "signature does not verify"
		if kid != "" {
			detail += " with key " + kid
		}
		return nil, tokenErr(ErrBadSignature, detail)
	}

	claims, err := parseObject(payload)
	if err != nil {
		return nil, tokenErr(ErrMalformed, "token payload: "+err.Error())
	}
	v := &Verified{Header: d.Header, Claims: claims, KeyID: used.kid, Algorithm: alg}
	if err := v.checkClaims(opts); err != nil {
		return nil, err
	}
	return v, nil
}

func (o VerifyOptions) allowedAlgs() ([]string, error) {
	algs := o.AllowedAlgs
	if len(algs) == 0 {
		return DefaultAllowedAlgs(), nil
	}
	for _, a := range algs {
		switch {
		case strings.EqualFold(a, "none"):
			return nil, errors.New("verify options: alg none can never be allowed")
		case isHMAC(a):
			if len(o.SharedSecret) == 0 {
				return nil, fmt.Errorf("verify options: %s is allowed but no shared secret was given", a)
			}
			if need := hmacKeyLen(a); len(o.SharedSecret) < need {
				return nil, fmt.Errorf("verify options: shared secret is %d bytes, shorter than the %d %s requires (RFC 7518 §3.2)",
					len(o.SharedSecret), need, a)
			}
		case !slices.Contains(DefaultAllowedAlgs(), a):
			return nil, fmt.Errorf("verify options: unsupported algorithm %q", a)
		}
	}
	return algs, nil
}

type candidate struct {
	key any
	kid string
}

// chooseKeys picks the JWKS keys that may verify a token with this alg and
// kid. It refetches once when the kid is unknown, or when a token without a
// kid finds no fitting key: both are what an IdP's key rotation looks like
// from a stale cache (OIDC Core §10.1.1).
func chooseKeys(ctx context.Context, keys KeySource, alg, kid string) ([]candidate, error) {
	if keys == nil {
		return nil, errors.New("verify: no JWKS source")
	}
	for refreshed := false; ; refreshed = true {
		set, err := keys(ctx, refreshed)
		if err != nil {
			return nil, fmt.Errorf("fetch the IdP's JWKS: %w", err)
		}
		cands, kidSeen, rejects := selectKeys(set, alg, kid)
		switch {
		case kid != "" && !kidSeen:
			if !refreshed {
				continue
			}
			return nil, tokenErr(ErrUnknownKID, fmt.Sprintf("no key with kid %s in the IdP's JWKS", kid))
		case kid != "" && len(cands) == 0:
			return nil, tokenErr(ErrKeyMismatch, fmt.Sprintf("key %s cannot verify %s: %s", kid, alg, strings.Join(rejects, "; ")))
		case kid != "":
			return cands, nil
		case len(cands) == 1:
			return cands, nil
		case len(cands) > 1:
			return nil, tokenErr(ErrNoKey, fmt.Sprintf(
				"token has no kid and %d keys in the IdP's JWKS fit %s; refusing to guess", len(cands), alg))
		case !refreshed:
			continue
		default:
			return nil, tokenErr(ErrNoKey, fmt.Sprintf("token has no kid and no key in the IdP's JWKS fits %s", alg))
		}
	}
}

// selectKeys returns the keys of set that fit alg (and kid, when given),
// whether any key carried kid at all, and why the others with that kid did
// not fit. Keys with the same kid are all returned: RFC 7517 §4.5 does not
// require kids to be unique.
func selectKeys(set *gojose.JSONWebKeySet, alg, kid string) (cands []candidate, kidSeen bool, rejects []string) {
	if set == nil {
		return nil, false, nil
	}
	for i := range set.Keys {
		k := &set.Keys[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		kidSeen = kidSeen || kid != ""
		pub, why := fitKey(k, alg)
		if why != "" {
			rejects = append(rejects, why)
			continue
		}
		cands = append(cands, candidate{key: pub, kid: k.KeyID})
	}
	return cands, kidSeen, rejects
}

// fitKey returns the public key of k if k may verify alg, or why not.
func fitKey(k *gojose.JSONWebKey, alg string) (any, string) {
	if k.Use != "" && k.Use != "sig" {
		return nil, fmt.Sprintf("its use is %q, not \"sig\" (RFC 7517 §4.2)", k.Use)
	}
	if k.Algorithm != "" && k.Algorithm != alg {
		return nil, fmt.Sprintf("it is for alg %s, not %s (RFC 8725 §3.1)", k.Algorithm, alg)
	}
	pub := publicOf(k.Key)
	if _, ok := pub.([]byte); ok {
		return nil, "it is a symmetric (oct) key, which is never used from a JWKS"
	}
	if why := algFitsKey(alg, pub); why != "" {
		return nil, why
	}
	return pub, ""
}

func publicOf(key any) any {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return &k.PublicKey
	case *ecdsa.PrivateKey:
		return &k.PublicKey
	case ed25519.PrivateKey:
		return k.Public()
	default:
		return key
	}
}

// minRSABits is RFC 7518 §3.3's floor for RS* and §3.5's for PS*.
const minRSABits = 2048

// algFitsKey says why the public key pub cannot be used with alg, or "" if it can.
func algFitsKey(alg string, pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if !strings.HasPrefix(alg, "RS") && !strings.HasPrefix(alg, "PS") {
			return fmt.Sprintf("an RSA key cannot be used with %s", alg)
		}
		if n := k.N.BitLen(); n < minRSABits {
			return fmt.Sprintf("the RSA key is %d bits; RFC 7518 §3.3 requires at least %d", n, minRSABits)
		}
	case *ecdsa.PublicKey:
		if want := curveAlg(k.Curve); want != alg {
			return fmt.Sprintf("an EC key on %s cannot be used with %s", k.Curve.Params().Name, alg)
		}
	case ed25519.PublicKey:
		if alg != "EdDSA" {
			return fmt.Sprintf("an Ed25519 key cannot be used with %s", alg)
		}
	default:
		return fmt.Sprintf("unsupported key type %T", pub)
	}
	return ""
}

// curveAlg is the only ECDSA alg a curve may be used with (RFC 7518 §3.4).
func curveAlg(c elliptic.Curve) string {
	switch c {
	case elliptic.P256():
		return "ES256"
	case elliptic.P384():
		return "ES384"
	case elliptic.P521():
		return "ES512"
	}
	return ""
}

func isHMAC(alg string) bool { return alg == "HS256" || alg == "HS384" || alg == "HS512" }

// hmacKeyLen is the minimum key size RFC 7518 §3.2 sets for an HS* alg.
func hmacKeyLen(alg string) int {
	switch alg {
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 32
}

func (v *Verified) checkClaims(opts VerifyOptions) error {
	var err error
	if v.ExpiresAt, err = numericDate(v.Claims, "exp"); err != nil {
		return err
	}
	if v.NotBefore, err = numericDate(v.Claims, "nbf"); err != nil {
		return err
	}
	if v.IssuedAt, err = numericDate(v.Claims, "iat"); err != nil {
		return err
	}
	if v.Audience, err = audience(v.Claims); err != nil {
		return err
	}
	for _, c := range []struct {
		name string
		dst  *string
	}{{"iss", &v.Issuer}, {"sub", &v.Subject}} {
		if raw, ok := v.Claims[c.name]; ok {
			s, ok := raw.(string)
			if !ok {
				return tokenErr(ErrMalformed, fmt.Sprintf("claim %s is not a string", c.name))
			}
			*c.dst = s
		}
	}

	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	t := now()
	leeway := opts.Leeway
	switch {
	case leeway == 0:
		leeway = DefaultLeeway
	case leeway < 0:
		leeway = 0
	}
	// RFC 7519 §4.1.4: the token is valid only strictly before exp.
	if !v.ExpiresAt.IsZero() && !t.Before(v.ExpiresAt.Add(leeway)) {
		return tokenErr(ErrExpired, fmt.Sprintf("token expired at %s (now %s, leeway %s)",
			stamp(v.ExpiresAt), stamp(t), leeway))
	}
	if !v.NotBefore.IsZero() && t.Add(leeway).Before(v.NotBefore) {
		return tokenErr(ErrNotYetValid, fmt.Sprintf("token is not valid before %s (now %s, leeway %s)",
			stamp(v.NotBefore), stamp(t), leeway))
	}
	// RFC 7519 §4.1.6 sets no rule for iat, but a token from the future means
	// a clock is wrong, and accepting it would stretch its life past what the
	// IdP meant.
	if !v.IssuedAt.IsZero() && t.Add(leeway).Before(v.IssuedAt) {
		return tokenErr(ErrIssuedInFuture, fmt.Sprintf("token was issued in the future, at %s (now %s, leeway %s); check the clocks",
			stamp(v.IssuedAt), stamp(t), leeway))
	}
	if opts.Issuer != "" && v.Issuer != opts.Issuer {
		if _, ok := v.Claims["iss"]; !ok {
			return tokenErr(ErrIssuerMismatch, fmt.Sprintf("token has no issuer; expected %s", opts.Issuer))
		}
		return tokenErr(ErrIssuerMismatch, fmt.Sprintf("token issuer is %s; expected %s", v.Issuer, opts.Issuer))
	}
	if opts.Audience != "" && !slices.Contains(v.Audience, opts.Audience) {
		if len(v.Audience) == 0 {
			return tokenErr(ErrAudienceMismatch, fmt.Sprintf("token has no audience; expected %s", opts.Audience))
		}
		return tokenErr(ErrAudienceMismatch, fmt.Sprintf("token audience is %s; expected %s",
			strings.Join(v.Audience, ", "), opts.Audience))
	}
	if opts.Nonce != "" {
		// The nonce binds the ID token to this login; it is not echoed in the
		// message so that a log never pairs it with the session.
		got, _ := v.Claims["nonce"].(string)
		if subtle.ConstantTimeCompare([]byte(got), []byte(opts.Nonce)) != 1 {
			return tokenErr(ErrNonceMismatch, "token nonce does not match the one sent with the authorization request")
		}
	}
	return nil
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// Bounds for a NumericDate: years 1 to 9999, which time.Time can format.
const (
	minNumericDate = -62135596800
	maxNumericDate = 253402300799
)

// numericDate reads an RFC 7519 §2 NumericDate: seconds since the epoch,
// possibly with a fraction.
func numericDate(claims map[string]any, name string) (time.Time, error) {
	raw, ok := claims[name]
	if !ok {
		return time.Time{}, nil
	}
	n, ok := raw.(json.Number)
	if !ok {
		return time.Time{}, tokenErr(ErrMalformed, fmt.Sprintf("claim %s is not a number", name))
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < minNumericDate || f > maxNumericDate {
		return time.Time{}, tokenErr(ErrMalformed, fmt.Sprintf("claim %s is not a usable date", name))
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)).UTC(), nil
}

// audience reads aud, a string or an array of strings (RFC 7519 §4.1.3).
func audience(claims map[string]any) ([]string, error) {
	switch a := claims["aud"].(type) {
	case nil:
		if _, present := claims["aud"]; present {
			return nil, tokenErr(ErrMalformed, "claim aud is null")
		}
		return nil, nil
	case string:
		return []string{a}, nil
	case []any:
		out := make([]string, 0, len(a))
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return nil, tokenErr(ErrMalformed, "claim aud holds a value that is not a string")
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, tokenErr(ErrMalformed, "claim aud is neither a string nor an array of strings")
	}
}
