package jose

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	gojose "github.com/go-jose/go-jose/v4"
)

// RequestObjectType is the typ of a signed authorization request (RFC 9101
// §10.8), which keeps it from being mistaken for another kind of JWT.
const RequestObjectType = "oauth-authz-req+jwt"

// RequestObject signs the parameters of an authorization request as a JWT
// (RFC 9101 §4): iss is the client, aud the authorization server's issuer,
// with iat, nbf, exp and a jti beside the request parameters. The
// parameters may not replace those claims.
func RequestObject(s *Signer, clientID, audience string, params map[string]any, now time.Time, lifetime time.Duration) (string, error) {
	if s == nil {
		return "", errors.New("request object: no signer")
	}
	if _, ok := s.key.([]byte); ok {
		// RFC 9101 §10.3 allows a shared secret, but idpctl signs request
		// objects with the client's private key only.
		return "", errors.New("request object: needs a private key, not a shared secret")
	}
	if clientID == "" || audience == "" {
		return "", errors.New("request object: needs a client ID and an audience")
	}
	if lifetime <= 0 {
		lifetime = DefaultAssertionLifetime
	}
	jti := make([]byte, jtiBytes)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("request object: generate jti: %w", err)
	}
	iat := now.Unix()
	claims := map[string]any{
		"iss": clientID,
		"aud": audience,
		"jti": base64.RawURLEncoding.EncodeToString(jti),
		"iat": iat,
		"nbf": iat,
		"exp": iat + int64(lifetime/time.Second),
	}
	for name := range params {
		if _, reserved := claims[name]; reserved {
			return "", fmt.Errorf("request object: parameter %s would replace a claim it sets itself", name)
		}
	}
	maps.Copy(claims, params)
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("request object: encode claims: %w", err)
	}
	signer, err := gojose.NewSigner(
		gojose.SigningKey{Algorithm: s.alg, Key: &gojose.JSONWebKey{Key: s.key, KeyID: s.kid}},
		(&gojose.SignerOptions{}).WithType(RequestObjectType))
	if err != nil {
		return "", fmt.Errorf("request object: %w", err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("request object: sign: %w", err)
	}
	return obj.CompactSerialize()
}
