// Package credstore keeps cached credentials: tokens, client secrets and
// admin credentials, one item per profile and kind. The OS keychain is the
// default backend; a file and an in-memory backend exist for when it cannot
// be used, and are only ever chosen explicitly.
package credstore

import (
	"context"
	"errors"
	"fmt"
)

// Kind names what an item holds. It is part of the item's account name
// (<profile>:<kind>), so values must never change once released.
type Kind string

const (
	KindAccessToken     Kind = "access_token"
	KindRefreshToken    Kind = "refresh_token"
	KindClientSecret    Kind = "client_secret"
	KindAdminCredential Kind = "admin_credential"
	// KindDPoPKey is the profile's DPoP private key (RFC 9449), a JWK.
	KindDPoPKey Kind = "dpop_key"
)

// AllKinds lists every kind, for removing everything a profile has.
var AllKinds = []Kind{KindAccessToken, KindRefreshToken, KindClientSecret, KindAdminCredential, KindDPoPKey}

// ErrNotFound is returned by Get when the item does not exist.
var ErrNotFound = errors.New("not in the credential store")

// Store is the seam every command uses to reach cached credentials.
// Implementations must be safe for use by one process's goroutines; across
// processes, writers serialise with Lock.
type Store interface {
	// Get returns the item's value or an error wrapping ErrNotFound.
	Get(ctx context.Context, profile string, kind Kind) ([]byte, error)
	// Set creates or replaces the item.
	Set(ctx context.Context, profile string, kind Kind, value []byte) error
	// Delete removes the item; removing an absent item is not an error.
	Delete(ctx context.Context, profile string, kind Kind) error
	// Backend names the backend ("keychain", "file", "memory") for doctor and warnings.
	Backend() string
}

// Locker serialises refreshes of one profile. Lock blocks until the lock is
// held or ctx ends; the returned function releases it.
type Locker interface {
	Lock(ctx context.Context, profile string) (unlock func(), err error)
}

// DeleteProfile removes every item the profile has, of every kind.
func DeleteProfile(ctx context.Context, s Store, profile string) error {
	var errsSeen []error
	for _, k := range AllKinds {
		if err := s.Delete(ctx, profile, k); err != nil {
			errsSeen = append(errsSeen, fmt.Errorf("removing %s: %w", k, err))
		}
	}
	return errors.Join(errsSeen...)
}

// Account is the item name for a profile and kind, as the keychain shows it.
func Account(profile string, kind Kind) string { return profile + ":" + string(kind) }
