package credstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/idpctl/idpctl/internal/errs"
)

// Tests in this file that call keyring.MockInit* change go-keyring's global
// provider, so they must not run in parallel with each other.

const secretValue = "s3cr3t-value-that-must-never-be-printed"

func TestKeychainRoundTripsAnItemThroughGoKeyring(t *testing.T) {
	mockKeyring(t)
	ctx := context.Background()
	k := NewKeychain(t.TempDir(), 0)

	if err := k.Set(ctx, "work", KindRefreshToken, []byte(secretValue)); err != nil {
		t.Fatalf("Set: %v", err)
	}
	// The item is where the keychain UI shows it: service idpctl, account profile:kind.
	if raw, err := keyring.Get("idpctl", "work:refresh_token"); err != nil || raw != secretValue {
		t.Fatalf("keyring.Get(idpctl, work:refresh_token) = %q, %v", raw, err)
	}
	got, err := k.Get(ctx, "work", KindRefreshToken)
	if err != nil || string(got) != secretValue {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := k.Delete(ctx, "work", KindRefreshToken); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(ctx, "work", KindRefreshToken); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if k.Backend() != "keychain" {
		t.Fatalf("Backend = %q", k.Backend())
	}
}

func TestKeychainReportsAnAbsentItemAsNotFoundAndDeletesItQuietly(t *testing.T) {
	mockKeyring(t)
	ctx := context.Background()
	k := NewKeychain(t.TempDir(), 0)

	_, err := k.Get(ctx, "work", KindAccessToken)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get = %v, want ErrNotFound", err)
	}
	if errs.KindOf(err) == errs.KindStore {
		t.Fatalf("an absent item is not a store failure: %v", err)
	}
	if err := k.Delete(ctx, "work", KindAccessToken); err != nil {
		t.Fatalf("Delete of an absent item = %v, want nil", err)
	}
}

func TestKeychainFailuresAreStoreErrorsThatNameTheOtherStores(t *testing.T) {
	noBus := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ENOENT)}
	cases := []struct {
		name    string
		err     error
		problem string
	}{
		{"no session bus found", errNoSessionBus, "no D-Bus session bus is running"},
		{"no session bus address", errors.New("dbus: couldn't determine address of session bus"), "cannot connect to the D-Bus session bus"},
		{"a session bus that is not there", noBus, "cannot connect to the D-Bus session bus"},
		{"no Secret Service on the bus", errors.New("The name org.freedesktop.secrets was not provided by any .service files"), "no Secret Service"},
		{"a collection that stays locked", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"), "locked, and the unlock prompt was dismissed"},
		{"an unsupported platform", keyring.ErrUnsupportedPlatform, "has no keychain"},
		{"anything else", errors.New("exit status 44"), "the keychain failed"},
	}
	ops := []struct {
		name string
		run  func(k *Keychain) error
	}{
		{"get", func(k *Keychain) error { _, err := k.Get(context.Background(), "work", KindClientSecret); return err }},
		{"set", func(k *Keychain) error {
			return k.Set(context.Background(), "work", KindClientSecret, []byte(secretValue))
		}},
		{"delete", func(k *Keychain) error { return k.Delete(context.Background(), "work", KindClientSecret) }},
	}
	for _, c := range cases {
		for _, op := range ops {
			t.Run(c.name+" on "+op.name, func(t *testing.T) {
				mockKeyringWithError(t, c.err)
				err := op.run(NewKeychain(t.TempDir(), 0))
				if !errs.Is(err, errs.KindStore) {
					t.Fatalf("kind = %v, want store: %v", errs.KindOf(err), err)
				}
				msg := err.Error()
				for _, want := range []string{c.problem, "--store file", "plaintext", "--store memory", "IDPCTL_STORE", "work:client_secret"} {
					if !strings.Contains(msg, want) {
						t.Errorf("message lacks %q: %s", want, msg)
					}
				}
				if strings.Contains(msg, secretValue) {
					t.Errorf("message contains the value: %s", msg)
				}
				if !errors.Is(err, c.err) {
					t.Errorf("the cause is not wrapped: %v", err)
				}
			})
		}
	}
}

func TestKeychainCallsThatDoNotAnswerTimeOutWithAStoreError(t *testing.T) {
	ops := []struct {
		name string
		run  func(ctx context.Context, k *Keychain) error
	}{
		{"get", func(ctx context.Context, k *Keychain) error {
			_, err := k.Get(ctx, "work", KindAccessToken)
			return err
		}},
		{"set", func(ctx context.Context, k *Keychain) error {
			return k.Set(ctx, "work", KindAccessToken, []byte(secretValue))
		}},
		{"delete", func(ctx context.Context, k *Keychain) error { return k.Delete(ctx, "work", KindAccessToken) }},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			blocked := blockingKeyring{release: make(chan struct{})}
			t.Cleanup(func() { close(blocked.release) })
			k := newKeychain(blocked, t.TempDir(), 50*time.Millisecond)

			start := time.Now()
			err := op.run(context.Background(), k)
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Fatalf("gave up after %v, want about 50ms", elapsed)
			}
			if !errs.Is(err, errs.KindStore) {
				t.Fatalf("kind = %v, want store: %v", errs.KindOf(err), err)
			}
			for _, want := range []string{"did not answer within 50ms", "unlock it", "--store file", "--store memory", "IDPCTL_STORE"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message lacks %q: %s", want, err)
				}
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("message contains the value: %s", err)
			}
		})
	}
}

func TestKeychainUsesTheDefaultTimeoutWhenNoneIsGiven(t *testing.T) {
	if got := NewKeychain("", 0).Timeout(); got != 3*time.Second {
		t.Fatalf("Timeout = %v, want 3s", got)
	}
	if got := NewKeychain("", time.Second).Timeout(); got != time.Second {
		t.Fatalf("Timeout = %v, want 1s", got)
	}
}

func TestKeychainStopsWaitingWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	blocked := blockingKeyring{release: make(chan struct{})}
	t.Cleanup(func() { close(blocked.release) })
	k := newKeychain(blocked, t.TempDir(), time.Minute)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := k.Get(ctx, "work", KindAccessToken)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v, want context.Canceled", err)
	}
	if errs.Is(err, errs.KindStore) {
		t.Fatalf("an interruption is not a store failure: %v", err)
	}
}

func TestKeychainLocksThroughFilesInTheStateDirectory(t *testing.T) {
	dir := t.TempDir()
	k := newKeychain(newFakeKeyring(), dir, 0)
	unlock, err := k.Lock(context.Background(), "work")
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	defer unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := (FileLocker{Dir: dir}).Lock(ctx, "work"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second Lock of the same profile = %v, want it to wait until the deadline", err)
	}
}

// childKeychainGet reads an item from the real keychain and prints the
// error's kind and message, for tests that run it in an environment the
// parent cannot set up for itself (no D-Bus session).
func childKeychainGet(t *testing.T) {
	_, err := NewKeychain("", 5*time.Second).Get(context.Background(), "idpctl-child", KindAccessToken)
	fmt.Printf("KIND=%d\nERR=%v\n", errs.KindOf(err), err)
}
