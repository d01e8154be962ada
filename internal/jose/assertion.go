package jose

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"time"
)

// DefaultAssertionLifetime is how long an assertion is valid when the caller
// does not say. Assertions are single-use and sent at once, so a short life
// limits replay; some IdPs reject long ones outright (Okta: at most an hour).
const DefaultAssertionLifetime = 60 * time.Second

// jtiBytes of crypto/rand make the jti, which the IdP may use to detect replay
// (RFC 7523 §3 item 7); 128 bits make collisions negligible.
const jtiBytes = 16

// ClientAssertion returns a JWT for private_key_jwt or client_secret_jwt
// client authentication (RFC 7523 §2.2 and §3, OIDC Core §9): iss and sub are
// the client ID, aud is audience (the token endpoint, or the issuer where the
// IdP accepts that), jti is random, iat is now and exp is now plus lifetime
// (DefaultAssertionLifetime when zero). No nbf is set: it adds nothing to iat
// and a receiver whose clock runs slow would reject it.
func ClientAssertion(s *Signer, clientID, audience string, now time.Time, lifetime time.Duration) (string, error) {
	if clientID == "" {
		return "", errors.New("client assertion: no client ID")
	}
	claims, err := assertionClaims(s, clientID, clientID, audience, now, lifetime)
	if err != nil {
		return "", fmt.Errorf("client assertion: %w", err)
	}
	return s.Sign(claims)
}

// UserAssertion returns a JWT authorization grant for the jwt-bearer grant
// type (RFC 7523 §2.1 and §3): iss is issuer, sub the user the token is
// requested for, aud the authorization server, plus jti, iat and exp as in
// ClientAssertion. extra adds claims (scope, tenant...); it may not replace
// iss, sub, aud, exp, iat or jti.
func UserAssertion(s *Signer, issuer, subject, audience string, extra map[string]any, now time.Time, lifetime time.Duration) (string, error) {
	if issuer == "" {
		return "", errors.New("user assertion: no issuer")
	}
	if subject == "" {
		return "", errors.New("user assertion: no subject")
	}
	claims, err := assertionClaims(s, issuer, subject, audience, now, lifetime)
	if err != nil {
		return "", fmt.Errorf("user assertion: %w", err)
	}
	for name := range extra {
		if _, reserved := claims[name]; reserved {
			return "", fmt.Errorf("user assertion: extra claim %s would replace a claim the assertion sets itself", name)
		}
	}
	maps.Copy(claims, extra)
	return s.Sign(claims)
}

func assertionClaims(s *Signer, issuer, subject, audience string, now time.Time, lifetime time.Duration) (map[string]any, error) {
	if s == nil {
		return nil, errors.New("no signer")
	}
	if audience == "" {
		return nil, errors.New("no audience")
	}
	if now.IsZero() {
		return nil, errors.New("no current time")
	}
	if lifetime == 0 {
		lifetime = DefaultAssertionLifetime
	}
	if lifetime < time.Second {
		return nil, fmt.Errorf("lifetime %s is shorter than a second", lifetime)
	}
	jti := make([]byte, jtiBytes)
	if _, err := rand.Read(jti); err != nil {
		return nil, fmt.Errorf("generate jti: %w", err)
	}
	iat := now.Unix()
	return map[string]any{
		"iss": issuer,
		"sub": subject,
		"aud": audience,
		"jti": base64.RawURLEncoding.EncodeToString(jti),
		"iat": iat,
		"exp": iat + int64(lifetime/time.Second),
	}, nil
}
