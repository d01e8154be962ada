package credstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
)

// Backend names, as --store and IDPCTL_STORE spell them.
const (
	BackendKeychain = "keychain"
	BackendFile     = "file"
	BackendMemory   = "memory"
)

// OpenOptions chooses and configures a Store.
type OpenOptions struct {
	// Backend is "keychain", "file" or "memory"; "" means keychain.
	Backend string
	// StateDir holds the file store and the refresh lock files; "" means
	// DefaultStateDir().
	StateDir string
	// Timeout bounds each keychain call; 0 means DefaultKeychainTimeout.
	Timeout time.Duration
	// Warn receives the file store's plaintext warning; nil discards it.
	Warn io.Writer
}

// Open returns the chosen store. Every store it returns also implements
// Locker: the keychain and file stores lock across processes (FileLocker in
// StateDir), the memory store within the process, which is all a store that
// dies with the process needs.
//
// There is no fallback: when the keychain cannot be used, its first call
// fails with an error of kind errs.KindStore that names the other stores,
// rather than silently writing secrets somewhere else. Open does not probe
// the keychain itself, since that would cost every command a write; doctor
// uses Probe for that.
func Open(opts OpenOptions) (Store, error) {
	backend := strings.ToLower(strings.TrimSpace(opts.Backend))
	switch backend {
	case "", BackendKeychain:
		// Without a state directory the keychain still works; only Lock
		// fails, with a sentence saying why.
		dir, _ := stateDir(opts.StateDir)
		return NewKeychain(dir, opts.Timeout), nil
	case BackendFile:
		dir, err := stateDir(opts.StateDir)
		if err != nil {
			return nil, err
		}
		return NewFile(dir, opts.Warn)
	case BackendMemory:
		return NewMemory(), nil
	default:
		return nil, errs.New(errs.KindUsage, "unknown credential store %q: choose %s, %s or %s", opts.Backend, BackendKeychain, BackendFile, BackendMemory)
	}
}

func stateDir(dir string) (string, error) {
	if dir != "" {
		return dir, nil
	}
	return DefaultStateDir()
}

// DefaultStateDir is idpctl's directory under the XDG state directory:
// $XDG_STATE_HOME/idpctl, else ~/.local/state/idpctl. The XDG Base Directory
// specification says a relative XDG_STATE_HOME is invalid and must be
// ignored.
func DefaultStateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "idpctl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errs.New(errs.KindStore, "cannot find the state directory: set XDG_STATE_HOME or HOME: %w", err)
	}
	return filepath.Join(home, ".local", "state", "idpctl"), nil
}

// probeProfile and probeKind name the throwaway item Probe writes. A profile
// name starting with a dot cannot collide with a configured profile.
const (
	probeProfile      = ".idpctl-probe"
	probeKind    Kind = "probe"
)

// Probe writes, reads back and removes a throwaway item, and reports how
// long the round trip took: for doctor, to show whether the store answers
// and how fast. Errors are those of the store (kind errs.KindStore for an
// unusable keychain).
func Probe(ctx context.Context, s Store) (time.Duration, error) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails (Go 1.24+)
	value := []byte("probe-" + hex.EncodeToString(nonce))

	start := time.Now()
	if err := s.Set(ctx, probeProfile, probeKind, value); err != nil {
		return time.Since(start), fmt.Errorf("writing a test item to the %s store: %w", s.Backend(), err)
	}
	got, getErr := s.Get(ctx, probeProfile, probeKind)
	delErr := s.Delete(ctx, probeProfile, probeKind)
	elapsed := time.Since(start)
	switch {
	case getErr != nil:
		return elapsed, fmt.Errorf("reading back a test item from the %s store: %w", s.Backend(), getErr)
	case !bytes.Equal(got, value):
		return elapsed, errs.New(errs.KindStore, "the %s store returned a different value than was written to it", s.Backend())
	case delErr != nil:
		return elapsed, fmt.Errorf("removing a test item from the %s store: %w", s.Backend(), delErr)
	}
	return elapsed, nil
}
