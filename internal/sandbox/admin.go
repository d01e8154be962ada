package sandbox

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key uses and statuses, as the admin API names them.
const (
	useSig = "sig"
	useEnc = "enc"
	// keyActive signs (or is the one to encrypt to); keyPassive is still
	// published, so what it signed keeps verifying, until it is retired.
	keyActive  = "active"
	keyPassive = "passive"
	// encAlg is the encryption key's key-management algorithm (RFC 7518
	// §4.6): ECDH-ES on P-256, cheap to generate on every start.
	encAlg = "ECDH-ES"
)

// managedKey is a published key and its place in the rotation.
type managedKey struct {
	signingKey // RSA signing keys only
	id         string
	use        string
	alg        string
	status     string
	created    time.Time
	public     any
}

// lifetimes are a client's token lifetimes.
type lifetimes struct {
	access, refresh time.Duration
}

// newSigningKey generates an RSA signing key, its kid the RFC 7638
// thumbprint: stable for the key and unique across sandbox runs.
func newSigningKey(now time.Time) (*managedKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return nil, fmt.Errorf("sandbox: generate signing key: %w", err)
	}
	kid, err := thumbprint(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return &managedKey{signingKey: signingKey{id: kid, key: k}, id: kid, use: useSig, alg: signingAlg, status: keyActive, created: now, public: &k.PublicKey}, nil
}

// newEncryptionKey generates the key clients encrypt to (use "enc"). The
// sandbox publishes and rotates it; it decrypts nothing itself.
func newEncryptionKey(now time.Time) (*managedKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("sandbox: generate encryption key: %w", err)
	}
	kid, err := thumbprint(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return &managedKey{id: kid, use: useEnc, alg: encAlg, status: keyActive, created: now, public: &k.PublicKey}, nil
}

func thumbprint(pub any) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("sandbox: compute key id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// UserGrants is what the sandbox holds for one user.
type UserGrants struct {
	ID            string `json:"id"`
	Sessions      int    `json:"sessions"`
	RefreshTokens int    `json:"refresh_tokens"`
	AccessTokens  int    `json:"access_tokens"`
}

// Revocation is what revoking a user's tokens ended.
type Revocation struct {
	User          string `json:"user"`
	ClientID      string `json:"client_id,omitempty"`
	RefreshTokens int    `json:"refresh_tokens"`
	AccessTokens  int    `json:"access_tokens"`
	Sessions      int    `json:"sessions"`
	// AccessTokenLifetime is the longest lifetime, in seconds, of the
	// access tokens ended: as JWTs they still verify locally until exp.
	AccessTokenLifetime int `json:"access_token_lifetime"`
}

// addUserLocked registers a user who may log in.
func (s *storage) addUserLocked(subject string) { s.users[subject] = true }

// seedGrantLocked gives subject a login session and a live grant at the
// public demo client, as if the user had logged in with offline_access.
func (s *storage) seedGrantLocked(subject string, now time.Time) error {
	family, err := randomString(16)
	if err != nil {
		return err
	}
	g := grant{clientID: CLIClientID, subject: subject, scopes: []string{"openid", "offline_access", "api:read"}, authTime: now, family: family}
	if _, err := s.newAccessTokenLocked(g); err != nil {
		return err
	}
	if _, err := s.newRefreshTokenLocked(g, now); err != nil {
		return err
	}
	s.sessions[subject]++
	return nil
}

// userGrantsLocked counts what subject holds now.
func (s *storage) userGrantsLocked(subject string, now time.Time) UserGrants {
	u := UserGrants{ID: subject, Sessions: s.sessions[subject]}
	for _, t := range s.refreshTokens {
		if t.grant.subject == subject && now.Before(t.expires) {
			u.RefreshTokens++
		}
	}
	for _, t := range s.accessTokens {
		if t.grant.subject == subject && now.Before(t.expires) {
			u.AccessTokens++
		}
	}
	return u
}

// revokeUserLocked ends subject's tokens (of clientID only, when set) and,
// for all clients, the user's sessions: every refresh token of the user's
// grants, the access tokens issued with them (introspection then says
// inactive) and the rotated-out refresh tokens kept for reuse detection.
func (s *storage) revokeUserLocked(subject, clientID string, now time.Time) Revocation {
	r := Revocation{User: subject, ClientID: clientID}
	sets := []struct {
		m     map[string]*token
		count *int
	}{{s.accessTokens, &r.AccessTokens}, {s.refreshTokens, &r.RefreshTokens}, {s.retired, nil}}
	for _, set := range sets {
		for id, t := range set.m {
			if t.grant.subject != subject || (clientID != "" && t.grant.clientID != clientID) {
				continue
			}
			if set.count != nil && now.Before(t.expires) {
				*set.count++
				if set.count == &r.AccessTokens {
					r.AccessTokenLifetime = max(r.AccessTokenLifetime, int(t.expires.Sub(t.issued)/time.Second))
				}
			}
			delete(set.m, id)
		}
	}
	if clientID == "" {
		r.Sessions = s.sessions[subject]
		delete(s.sessions, subject)
	}
	return r
}

// rotateKeyLocked adds a key of use that becomes the active one; the one it
// replaces stays published as passive until retired.
func (s *storage) rotateKeyLocked(use string, now time.Time) (*managedKey, error) {
	var k *managedKey
	var err error
	if use == useSig {
		k, err = newSigningKey(now)
	} else {
		k, err = newEncryptionKey(now)
	}
	if err != nil {
		return nil, err
	}
	for _, old := range s.keys {
		if old.use == use && old.status == keyActive {
			old.status = keyPassive
		}
	}
	s.keys = append(s.keys, k)
	return k, nil
}

// retireKeyLocked withdraws a passive key from the JWKS. The active key of
// a use cannot be retired: something must sign.
func (s *storage) retireKeyLocked(kid string) (found, active bool) {
	i := slices.IndexFunc(s.keys, func(k *managedKey) bool { return k.id == kid })
	if i < 0 {
		return false, false
	}
	if s.keys[i].status == keyActive {
		return true, true
	}
	s.keys = slices.Delete(s.keys, i, i+1)
	return true, false
}
