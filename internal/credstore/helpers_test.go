package credstore

import (
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/zalando/go-keyring"
)

// fakeKeyring is a keychain for tests that, unlike go-keyring's global mock,
// can be inspected, planted into, run in parallel tests, and made to fail
// or act on particular accounts.
type fakeKeyring struct {
	mu    sync.Mutex
	items map[string]string
	// onSet, when set, runs before each Set; a non-nil error fails it.
	onSet func(account, value string) error
	// onGet, when set, runs before each Get, outside the lock.
	onGet func(account string)
	// getErr, when set and returning an error, fails that Get.
	getErr func(account string) error
}

func newFakeKeyring() *fakeKeyring { return &fakeKeyring{items: map[string]string{}} }

func (f *fakeKeyring) Set(service, user, password string) error {
	if f.onSet != nil {
		if err := f.onSet(user, password); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[service+"/"+user] = password
	return nil
}

func (f *fakeKeyring) Get(service, user string) (string, error) {
	if f.onGet != nil {
		f.onGet(user)
	}
	if f.getErr != nil {
		if err := f.getErr(user); err != nil {
			return "", err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[service+"/"+user]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Delete(service, user string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[service+"/"+user]; !ok {
		return keyring.ErrNotFound
	}
	delete(f.items, service+"/"+user)
	return nil
}

// accounts lists the accounts held, sorted.
func (f *fakeKeyring) accounts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.items {
		out = append(out, strings.TrimPrefix(k, KeychainService+"/"))
	}
	sort.Strings(out)
	return out
}

func (f *fakeKeyring) raw(account string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[KeychainService+"/"+account]
	return v, ok
}

func (f *fakeKeyring) plant(account, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.items[KeychainService+"/"+account] = value
}

// blockingKeyring never answers until released, like go-keyring on Linux
// waiting for an unlock prompt nobody sees.
type blockingKeyring struct{ release chan struct{} }

func (b blockingKeyring) Set(string, string, string) error { <-b.release; return nil }
func (b blockingKeyring) Get(string, string) (string, error) {
	<-b.release
	return "", keyring.ErrNotFound
}
func (b blockingKeyring) Delete(string, string) error { <-b.release; return nil }

// childEnv selects a role when the test binary is re-executed as a child
// process, for tests that need a second process: cross-process locking and
// writing, a process killed while holding a lock, a private mount namespace.
const childEnv = "IDPCTL_CREDSTORE_TEST_CHILD"

// TestChildProcess is not a test: it is the entry point of the child
// processes the other tests start, and does nothing in a normal run.
func TestChildProcess(t *testing.T) {
	switch role := os.Getenv(childEnv); role {
	case "":
		return
	case "hold-lock":
		childHoldLock(t)
	case "write-file":
		childWriteFile(t)
	case "read-only":
		childReadOnly(t)
	case "keychain-get":
		childKeychainGet(t)
	default:
		t.Fatalf("unknown child role %q", role)
	}
}

// childCommand re-executes the test binary as a child in the given role.
func childCommand(t *testing.T, role string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1", "-test.v=false")
	cmd.Env = append(append(os.Environ(), childEnv+"="+role), env...)
	return cmd
}

// valueOf returns n bytes of a recognisable, non-repeating pattern, so a
// misplaced or missing chunk changes the value.
func valueOf(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x = x*1664525 + 1013904223
		b[i] = 'a' + byte(x>>24)%26
	}
	return b
}

// mockKeyring installs go-keyring's global mock. The Keychain refuses to
// call go-keyring on Linux when no session bus can be found (see
// checkSessionBus), so the test also names one; the mock never dials it.
func mockKeyring(t *testing.T) {
	t.Helper()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/mock-session-bus")
	keyring.MockInit()
}

// mockKeyringWithError installs go-keyring's global mock failing every call with err.
func mockKeyringWithError(t *testing.T, err error) {
	t.Helper()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/mock-session-bus")
	keyring.MockInitWithError(err)
}
