package credstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/idpctl/idpctl/internal/errs"
)

// KeychainService is the service name every item is stored under; the
// account is Account(profile, kind).
const KeychainService = "idpctl"

// DefaultKeychainTimeout bounds each keychain call when no timeout is given.
const DefaultKeychainTimeout = 3 * time.Second

// keyringAPI is the part of go-keyring the Keychain uses. go-keyring can only
// be mocked globally (MockInit), which cannot block or fail selectively; this
// seam lets tests substitute a backend that does.
type keyringAPI interface {
	Set(service, user, password string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

// osKeyring is the real OS keychain through go-keyring: the Secret Service
// over D-Bus on Linux and the BSDs, the login keychain on macOS, the
// Credential Manager on Windows.
type osKeyring struct{}

func (osKeyring) Set(service, user, password string) error {
	if err := checkSessionBus(); err != nil {
		return err
	}
	return keyring.Set(service, user, password)
}

func (osKeyring) Get(service, user string) (string, error) {
	if err := checkSessionBus(); err != nil {
		return "", err
	}
	return keyring.Get(service, user)
}

func (osKeyring) Delete(service, user string) error {
	if err := checkSessionBus(); err != nil {
		return err
	}
	return keyring.Delete(service, user)
}

// Keychain is the default Store: the operating system's keychain. Values
// larger than one keychain item holds are split into chunks behind a
// manifest (see chunks.go). Every call to the keychain is bounded by a
// timeout, because go-keyring on Linux waits without limit for an unlock
// prompt that a headless session never shows.
//
// Writers within one process are serialised by the Keychain; across
// processes, callers serialise writers of a profile with Lock.
type Keychain struct {
	kr        keyringAPI
	timeout   time.Duration
	chunkSize int
	locks     FileLocker
	// writeMu makes a chunked write and the clean-up after it one step for
	// this process's goroutines, so two of them never pick the same slot.
	writeMu sync.Mutex
}

// NewKeychain returns the OS keychain store. stateDir holds the refresh lock
// files (see FileLocker); timeout bounds each keychain call, 0 meaning
// DefaultKeychainTimeout.
func NewKeychain(stateDir string, timeout time.Duration) *Keychain {
	return newKeychain(osKeyring{}, stateDir, timeout)
}

func newKeychain(kr keyringAPI, stateDir string, timeout time.Duration) *Keychain {
	if timeout <= 0 {
		timeout = DefaultKeychainTimeout
	}
	return &Keychain{kr: kr, timeout: timeout, chunkSize: keychainChunkSize, locks: FileLocker{Dir: stateDir}}
}

func (k *Keychain) Backend() string { return BackendKeychain }

// Timeout is the bound on each keychain call.
func (k *Keychain) Timeout() time.Duration { return k.timeout }

// Lock takes the cross-process refresh lock of the profile (see FileLocker).
func (k *Keychain) Lock(ctx context.Context, profile string) (func(), error) {
	return k.locks.Lock(ctx, profile)
}

// Get returns the item, reassembling it from its chunks when it has any.
func (k *Keychain) Get(ctx context.Context, profile string, kind Kind) ([]byte, error) {
	return k.getWhole(ctx, Account(profile, kind))
}

// Set stores the item, in chunks when it is too large for one keychain item.
func (k *Keychain) Set(ctx context.Context, profile string, kind Kind, value []byte) error {
	k.writeMu.Lock()
	defer k.writeMu.Unlock()
	return k.setWhole(ctx, Account(profile, kind), value)
}

// Delete removes the item and every chunk it has or had.
func (k *Keychain) Delete(ctx context.Context, profile string, kind Kind) error {
	k.writeMu.Lock()
	defer k.writeMu.Unlock()
	return k.deleteWhole(ctx, Account(profile, kind))
}

// get reads one keychain item. A missing item gives an error wrapping
// ErrNotFound; any other failure an error of kind errs.KindStore.
func (k *Keychain) get(ctx context.Context, account string) (string, error) {
	var v string
	err := k.call(ctx, "reading", account, func() error {
		var err error
		v, err = k.kr.Get(KeychainService, account)
		return err
	})
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, keyring.ErrNotFound), vanished(err):
		return "", fmt.Errorf("%s: %w", account, ErrNotFound)
	default:
		return "", classify("reading", account, err)
	}
}

// vanished recognises an item deleted between go-keyring's lookup and its
// read: the Secret Service then answers that the object does not exist
// (D-Bus UnknownObject) rather than "not found". For a chunk that is the
// torn read the manifest protocol retries, not a broken keychain.
func vanished(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Object does not exist") || strings.Contains(msg, "org.freedesktop.DBus.Error.UnknownObject")
}

// set writes one keychain item. keyring.ErrSetDataTooBig is returned as is,
// for the caller to split the value further.
func (k *Keychain) set(ctx context.Context, account, value string) error {
	err := k.call(ctx, "writing", account, func() error {
		return k.kr.Set(KeychainService, account, value)
	})
	if err == nil || errors.Is(err, keyring.ErrSetDataTooBig) {
		return err
	}
	return classify("writing", account, err)
}

// del removes one keychain item; an absent item is not an error.
func (k *Keychain) del(ctx context.Context, account string) error {
	err := k.call(ctx, "removing", account, func() error {
		return k.kr.Delete(KeychainService, account)
	})
	if err == nil || errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return classify("removing", account, err)
}

// call runs fn in a goroutine and gives up after the timeout or when ctx
// ends. go-keyring has no cancellation, so a call that never returns leaves
// its goroutine behind; for a command-line process that is about to report
// the error and exit, that is the lesser evil compared with hanging.
func (k *Keychain) call(ctx context.Context, op, account string, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s in the keychain: %w", op, account, err)
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	timer := time.NewTimer(k.timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return &timeoutError{op: op, account: account, after: k.timeout}
	case <-ctx.Done():
		return fmt.Errorf("%s %s in the keychain: %w", op, account, ctx.Err())
	}
}

// timeoutError is a keychain call that did not return in time; classify
// turns it into the user-facing sentence.
type timeoutError struct {
	op, account string
	after       time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s %s: no answer within %s", e.op, e.account, e.after)
}

// storeChoice is the sentence every keychain failure ends with: there is no
// silent fallback, so the user must be told what else they can choose.
const storeChoice = "choose another store with --store file (keeps credentials in a plaintext file, mode 0600) or --store memory (forgets them when the command ends), or set IDPCTL_STORE"

// classify gives a keychain failure the kind errs.KindStore and a sentence
// that says what went wrong and what to do. Errors already classified, and
// the end of ctx, pass through. go-keyring's errors never carry the value.
func classify(op, account string, err error) error {
	if errs.KindOf(err) != errs.KindUnknown || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var te *timeoutError
	if errors.As(err, &te) {
		return errs.New(errs.KindStore, "the keychain did not answer within %s (%s %s); it may be locked: unlock it, or %s", te.after, op, account, storeChoice)
	}
	problem, advice := keychainProblem(err)
	return errs.New(errs.KindStore, "%s %s in the keychain: %s (%w); %s%s", op, account, problem, err, advice, storeChoice)
}

// keychainProblem names the likely cause of a keychain failure, and advice
// to give before the other stores. go-keyring passes D-Bus errors through
// untyped, so the Secret Service cases are recognised by their text: godbus
// reports an unreachable session bus as "dbus: ..." or a dial error, the bus
// reports an absent Secret Service as ServiceUnknown for the name
// org.freedesktop.secrets, and go-keyring reports a dismissed (or
// impossible) unlock prompt as "failed to unlock correct collection".
func keychainProblem(err error) (problem, advice string) {
	msg := err.Error()
	var opErr *net.OpError
	switch {
	case errors.Is(err, errNoSessionBus):
		return "no D-Bus session bus is running, and the Secret Service keychain needs one", "run the command inside a desktop session or dbus-run-session, or "
	case errors.Is(err, keyring.ErrUnsupportedPlatform):
		return "this system (" + runtime.GOOS + ") has no keychain that idpctl can use", ""
	case strings.Contains(msg, "org.freedesktop.secrets"):
		return "no Secret Service (such as gnome-keyring or KeePassXC) is running on the D-Bus session bus", ""
	case strings.HasPrefix(msg, "dbus:") || errors.As(err, &opErr) || strings.Contains(msg, "dbus-launch"):
		return "cannot connect to the D-Bus session bus, which the Secret Service keychain needs", ""
	case strings.Contains(msg, "failed to unlock"):
		return "the keychain is locked, and the unlock prompt was dismissed or could not be shown", "unlock it, or "
	default:
		return "the keychain failed", ""
	}
}
