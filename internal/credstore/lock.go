package credstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"

	"github.com/idpctl/idpctl/internal/atomicfile"
	"github.com/idpctl/idpctl/internal/errs"
)

// lockRetry is how often a waiting process tries the lock again. A refresh
// takes a round trip to the IdP, so a few tens of milliseconds of extra wait
// are invisible while keeping the polling cheap.
const lockRetry = 25 * time.Millisecond

// FileLocker serialises refreshes of a profile across processes with an
// advisory lock (flock(2) on Unix, LockFileEx on Windows) on
// <Dir>/locks/<profile>.lock. The kernel drops the lock when its holder
// exits, however it exits, so a killed process never blocks the next one;
// the lock files themselves stay, empty, and are reused.
type FileLocker struct {
	// Dir is the state directory; the lock files live in its locks/ folder.
	Dir string
	// Notify, when set, hears once that the lock is held by another
	// process, after NotifyAfter of waiting: a silent wait looks like a
	// hang.
	Notify      io.Writer
	NotifyAfter time.Duration
	// MaxWait bounds the wait (0: until ctx ends). A login holding the
	// lock while a person finishes in the browser can take minutes.
	MaxWait time.Duration
}

// Lock blocks until the profile's lock is held or ctx ends. The returned
// function releases it and may be called more than once.
func (l FileLocker) Lock(ctx context.Context, profile string) (func(), error) {
	if l.Dir == "" {
		return nil, errs.New(errs.KindStore, "no state directory for the refresh lock of profile %q: set XDG_STATE_HOME or HOME", profile)
	}
	dir := filepath.Join(l.Dir, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, dirError("creating the lock directory", dir, err)
	}
	fl := flock.New(filepath.Join(dir, lockFileName(profile)), flock.SetPermissions(0o600), flock.SetFlag(lockFlags))
	if ok, err := fl.TryLock(); err == nil && ok {
		var once sync.Once
		return func() { once.Do(func() { _ = fl.Unlock() }) }, nil
	}
	waitCtx := ctx
	if l.MaxWait > 0 {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithTimeout(ctx, l.MaxWait)
		defer cancel()
	}
	if l.Notify != nil {
		after := l.NotifyAfter
		if after <= 0 {
			after = time.Second
		}
		notice := time.AfterFunc(after, func() {
			fmt.Fprintf(l.Notify, "waiting for another idpctl using profile %q to finish (a refresh, or a login waiting for the browser)\n", profile)
		})
		defer notice.Stop()
	}
	ok, err := fl.TryLockContext(waitCtx, lockRetry)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, fmt.Errorf("waiting for the refresh lock of profile %q: %w", profile, err)
		}
		if waitCtx.Err() != nil && errors.Is(err, waitCtx.Err()) {
			return nil, errs.New(errs.KindStore, "another idpctl has held the refresh lock of profile %q for %s (a login waiting for the browser, or a stopped process); try again when it has finished", profile, l.MaxWait)
		}
		return nil, dirError("taking the refresh lock", dir, err)
	}
	if !ok {
		return nil, errs.New(errs.KindStore, "could not take the refresh lock of profile %q in %s", profile, dir)
	}
	var once sync.Once
	return func() { once.Do(func() { _ = fl.Unlock() }) }, nil
}

// lockFileName maps a profile to a file name that is safe on every OS. A
// name that had to be changed gets a digest of the original, so distinct
// profiles never share a lock (sharing would only over-serialise, but a
// clear one-to-one mapping is easier to reason about).
func lockFileName(profile string) string {
	var b strings.Builder
	changed := profile == "" || profile[0] == '.' || len(profile) > 64
	for _, r := range profile {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			// Upper case is folded too: Windows and macOS file names are
			// case-insensitive, profile names are not.
			b.WriteByte('_')
			changed = true
		}
	}
	name := b.String()
	if len(name) > 64 {
		name = name[:64]
	}
	if changed {
		sum := sha256.Sum256([]byte(profile))
		name += "-" + hex.EncodeToString(sum[:6])
	}
	return name + ".lock"
}

// lockFlags open lock files read-write (an exclusive lock needs it on some
// systems) and never through a symbolic link (see atomicfile.NoFollow).
const lockFlags = os.O_CREATE | os.O_RDWR | atomicfile.NoFollow
