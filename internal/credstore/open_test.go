package credstore

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
)

func TestOpenChoosesTheBackendByName(t *testing.T) {
	cases := []struct {
		backend string
		want    string
	}{
		{"", "keychain"},
		{"keychain", "keychain"},
		{"file", "file"},
		{" File ", "file"},
		{"memory", "memory"},
	}
	for _, c := range cases {
		t.Run("backend "+c.backend, func(t *testing.T) {
			s, err := Open(OpenOptions{Backend: c.backend, StateDir: t.TempDir()})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if s.Backend() != c.want {
				t.Fatalf("Backend = %q, want %q", s.Backend(), c.want)
			}
			if _, ok := s.(Locker); !ok {
				t.Fatalf("the %s store does not implement Locker", c.want)
			}
		})
	}
}

func TestOpenRejectsAnUnknownBackendAsAUsageError(t *testing.T) {
	_, err := Open(OpenOptions{Backend: "vault", StateDir: t.TempDir()})
	if !errs.Is(err, errs.KindUsage) {
		t.Fatalf("Open = %v (kind %v), want a usage error", err, errs.KindOf(err))
	}
	for _, want := range []string{`"vault"`, "keychain", "file", "memory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message lacks %q: %s", want, err)
		}
	}
}

func TestOpenFileStoreWarnsAndKeychainPassesItsTimeout(t *testing.T) {
	var warn bytes.Buffer
	dir := t.TempDir()
	fs, err := Open(OpenOptions{Backend: "file", StateDir: dir, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Set(context.Background(), "work", KindAccessToken, []byte("v")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), filepath.Join(dir, "credentials.json")) {
		t.Fatalf("no plaintext warning naming the file: %q", warn.String())
	}
	s, err := Open(OpenOptions{StateDir: dir, Timeout: 7 * time.Second, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.(*Keychain).Timeout(); got != 7*time.Second {
		t.Fatalf("keychain timeout = %v, want 7s", got)
	}
	if strings.Count(warn.String(), "\n") != 1 {
		t.Fatalf("the keychain wrote a warning too: %q", warn.String())
	}
}

func TestAnUnusableKeychainFailsOnFirstUseInsteadOfFallingBack(t *testing.T) {
	mockKeyringWithError(t, errors.New("dbus: couldn't determine address of session bus"))
	dir := t.TempDir()
	s, err := Open(OpenOptions{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Set(context.Background(), "work", KindAccessToken, []byte(secretValue))
	if !errs.Is(err, errs.KindStore) {
		t.Fatalf("Set = %v, want a store error", err)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(matches) > 0 {
		t.Fatalf("the value went to a file instead: %v", matches)
	}
}

func TestDefaultStateDirFollowsTheXDGBaseDirectorySpecification(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)

	t.Setenv("XDG_STATE_HOME", "/var/state")
	if got, err := DefaultStateDir(); err != nil || got != filepath.Join("/var/state", "idpctl") {
		t.Fatalf("with XDG_STATE_HOME: %q, %v", got, err)
	}
	t.Setenv("XDG_STATE_HOME", "relative/state")
	if got, err := DefaultStateDir(); err != nil || got != filepath.Join(home, ".local", "state", "idpctl") {
		t.Fatalf("a relative XDG_STATE_HOME must be ignored: %q, %v", got, err)
	}
	t.Setenv("XDG_STATE_HOME", "")
	if got, err := DefaultStateDir(); err != nil || got != filepath.Join(home, ".local", "state", "idpctl") {
		t.Fatalf("without XDG_STATE_HOME: %q, %v", got, err)
	}
}

func TestProbeTimesARoundTripAndLeavesNothingBehind(t *testing.T) {
	kr := newFakeKeyring()
	d, err := Probe(context.Background(), newKeychain(kr, "", 0))
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if d <= 0 {
		t.Fatalf("Probe took %v", d)
	}
	wantAccounts(t, kr)
}

func TestProbeReportsAKeychainThatDoesNotAnswer(t *testing.T) {
	blocked := blockingKeyring{release: make(chan struct{})}
	t.Cleanup(func() { close(blocked.release) })
	_, err := Probe(context.Background(), newKeychain(blocked, "", 20*time.Millisecond))
	if !errs.Is(err, errs.KindStore) || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("Probe = %v, want a store error saying it did not answer", err)
	}
}

// forgetfulStore answers every Get with the same wrong value.
type forgetfulStore struct{ *Memory }

func (forgetfulStore) Get(context.Context, string, Kind) ([]byte, error) { return []byte("other"), nil }

func TestProbeReportsAStoreThatReturnsSomethingElse(t *testing.T) {
	_, err := Probe(context.Background(), forgetfulStore{NewMemory()})
	if !errs.Is(err, errs.KindStore) || !strings.Contains(err.Error(), "different value") {
		t.Fatalf("Probe = %v, want a store error saying the value differed", err)
	}
}
