package jose

import (
	"fmt"
	"strings"
)

// CheckUnverified checks a JWS whose signature cannot be verified because
// the IdP publishes no keys (an ID token from an IdP without jwks_uri). It
// refuses alg "none" (RFC 8725 §3.1: an unsigned token is never accepted
// in place of a signed one), requires exp (OIDC Core §2 makes it
// mandatory in an ID token), and checks exp, nbf, iat, iss, aud and nonce
// as Verify does. The result says nothing about who made the token; the
// caller must say so.
func CheckUnverified(token string, opts VerifyOptions) (*Verified, error) {
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
	if len(d.Signature) == 0 {
		return nil, tokenErr(ErrMalformed, fmt.Sprintf("token names alg %s but carries no signature", alg))
	}
	if _, ok := d.Header["crit"]; ok {
		return nil, tokenErr(ErrMalformed, "token header has critical parameters this verifier does not understand")
	}
	v := &Verified{Header: d.Header, Claims: d.Claims, Algorithm: alg}
	if err := v.checkClaims(opts); err != nil {
		return nil, err
	}
	if v.ExpiresAt.IsZero() {
		return nil, tokenErr(ErrMalformed, "token has no exp claim")
	}
	return v, nil
}
