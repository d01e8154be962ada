//go:build keychain_integration && linux

// Tests against a real Secret Service. .ci/keychain-test.sh runs them in a
// private D-Bus session with an unlocked gnome-keyring-daemon:
//
//	.ci/keychain-test.sh -v -run 'RealKeychain|DBus'
package credstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
	ss "github.com/zalando/go-keyring/secret_service"

	"github.com/idpctl/idpctl/internal/errs"
)

const freshEnv = "IDPCTL_CREDSTORE_TEST_FRESH"

// inFreshProcess reruns the calling test alone in a new process and reports
// whether the caller is that process. Once a unit test has called
// keyring.MockInit, the mock replaces the real keychain for the rest of the
// process (go-keyring has no way back), and godbus caches its session bus
// connection; a fresh process has neither.
func inFreshProcess(t *testing.T) bool {
	t.Helper()
	if os.Getenv(freshEnv) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v=true")
	cmd.Env = append(os.Environ(), freshEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("in a fresh process: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Logf("in a fresh process:\n%s", out)
	}
	return false
}

// realKeychain returns the OS keychain and a profile name no other run
// uses, whose items are removed when the test ends.
func realKeychain(t *testing.T) (*Keychain, string) {
	t.Helper()
	k := NewKeychain(t.TempDir(), 10*time.Second)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	profile := "itest-" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if err := DeleteProfile(context.Background(), k, profile); err != nil {
			t.Errorf("cleaning up: %v", err)
		}
	})
	return k, profile
}

// secretTool runs libsecret's command-line client: what any other Secret
// Service client sees.
func secretTool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("secret-tool", args...).Output()
	return string(out), err
}

func TestRealKeychainRoundTripsAnItemOtherClientsCanSee(t *testing.T) {
	if !inFreshProcess(t) {
		return
	}
	ctx := context.Background()
	k, profile := realKeychain(t)
	value := []byte(`{"access_token":"at-` + profile + `"}`)

	if err := k.Set(ctx, profile, KindAccessToken, value); err != nil {
		t.Fatalf("Set: %v", err)
	}
	got, err := k.Get(ctx, profile, KindAccessToken)
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	seen, err := secretTool(t, "lookup", "service", "idpctl", "username", profile+":access_token")
	if err != nil || seen != string(value) {
		t.Fatalf("secret-tool lookup = %q, %v; want the value under service idpctl", seen, err)
	}

	// Replacing keeps one item: go-keyring asks the Secret Service to
	// replace an item with the same attributes.
	if err := k.Set(ctx, profile, KindAccessToken, []byte("second")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got, err := k.Get(ctx, profile, KindAccessToken); err != nil || string(got) != "second" {
		t.Fatalf("Get after replacing = %q, %v", got, err)
	}
}

func TestRealKeychainStoresValuesOverFiveKilobytesInChunks(t *testing.T) {
	if !inFreshProcess(t) {
		return
	}
	ctx := context.Background()
	k, profile := realKeychain(t)
	acct := Account(profile, KindAccessToken)

	for _, size := range []int{5*1024 + 1, 20 * 1024} {
		value := valueOf(size, byte(size))
		if err := k.Set(ctx, profile, KindAccessToken, value); err != nil {
			t.Fatalf("Set of %d bytes: %v", size, err)
		}
		got, err := k.Get(ctx, profile, KindAccessToken)
		if err != nil || !bytes.Equal(got, value) {
			t.Fatalf("Get of %d bytes returned %d bytes, %v", size, len(got), err)
		}
	}
	raw, err := secretTool(t, "lookup", "service", "idpctl", "username", acct)
	if err != nil || !strings.HasPrefix(raw, "idpctl-chunked:v1:") {
		t.Fatalf("the item is not a manifest: %.40q, %v", raw, err)
	}

	// Back to a small value: the chunks go.
	if err := k.Set(ctx, profile, KindAccessToken, []byte("small")); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if n := countItems(t, profile); n != 1 {
		t.Fatalf("%d items left for the profile after storing a small value, want 1", n)
	}
}

func TestRealKeychainDeleteRemovesTheItemAndAllItsChunks(t *testing.T) {
	if !inFreshProcess(t) {
		return
	}
	ctx := context.Background()
	k, profile := realKeychain(t)
	if err := k.Set(ctx, profile, KindAccessToken, valueOf(12*1024, 1)); err != nil {
		t.Fatal(err)
	}
	if err := k.Set(ctx, profile, KindRefreshToken, []byte("rt")); err != nil {
		t.Fatal(err)
	}
	if n := countItems(t, profile); n != 1+7+1 {
		t.Fatalf("%d items for the profile, want a manifest, 7 chunks and a refresh token", n)
	}

	if err := k.Delete(ctx, profile, KindAccessToken); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := k.Get(ctx, profile, KindAccessToken); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if n := countItems(t, profile); n != 1 {
		t.Fatalf("%d items left for the profile, want only the refresh token", n)
	}
	if err := DeleteProfile(ctx, k, profile); err != nil {
		t.Fatalf("DeleteProfile: %v", err)
	}
	if n := countItems(t, profile); n != 0 {
		t.Fatalf("%d items left after DeleteProfile", n)
	}
	if err := k.Delete(ctx, profile, KindAccessToken); err != nil {
		t.Fatalf("Delete of an absent item = %v", err)
	}
}

// countItems counts the keychain items of idpctl whose account belongs to
// the profile, chunks included, as secret-tool lists them.
func countItems(t *testing.T, profile string) int {
	t.Helper()
	cmd := exec.Command("secret-tool", "search", "--all", "service", "idpctl")
	var out bytes.Buffer
	cmd.Stderr = &out // secret-tool prints the attributes on stderr
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil && out.Len() > 0 {
		t.Fatalf("secret-tool search: %v\n%s", err, out.String())
	}
	return strings.Count(out.String(), "attribute.username = "+profile+":")
}

func TestProbeOfTheRealKeychainAnswers(t *testing.T) {
	if !inFreshProcess(t) {
		return
	}
	d, err := Probe(context.Background(), NewKeychain(t.TempDir(), 10*time.Second))
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	t.Logf("the keychain answered a write, read and delete in %v", d)
}

func TestALockedRealKeychainIsAStoreError(t *testing.T) {
	if !inFreshProcess(t) {
		return
	}
	password := os.Getenv("IDPCTL_KEYRING_PASSWORD")
	if password == "" {
		t.Skip("IDPCTL_KEYRING_PASSWORD (set by .ci/keychain-test.sh) is needed to unlock the keyring again")
	}
	ctx := context.Background()
	k, profile := realKeychain(t)
	if err := k.Set(ctx, profile, KindAccessToken, []byte("v")); err != nil {
		t.Fatal(err)
	}
	svc, err := ss.NewSecretService()
	if err != nil {
		t.Fatal(err)
	}
	login := dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	if err := svc.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
		Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{login}).Err; err != nil {
		t.Fatalf("locking the login collection: %v", err)
	}
	// Registered after realKeychain's clean-up, so it runs first.
	t.Cleanup(func() { unlockLogin(t, svc, login, password) })

	// Unlocking needs a prompt. Without a display gnome-keyring's prompter
	// fails at once; on a desktop it would wait for the user, and the
	// timeout ends the wait. Either way the answer is a store error.
	start := time.Now()
	_, err = NewKeychain(t.TempDir(), 2*time.Second).Get(ctx, profile, KindAccessToken)
	if !errs.Is(err, errs.KindStore) {
		t.Fatalf("Get from a locked keychain = %v (kind %v), want a store error", err, errs.KindOf(err))
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Fatalf("Get took %v", elapsed)
	}
	if !strings.Contains(err.Error(), "locked") || !strings.Contains(err.Error(), "--store file") {
		t.Fatalf("the error does not say locked and name the other stores: %v", err)
	}
}

// unlockLogin unlocks the collection with its password through
// gnome-keyring's own interface, the one its login integration uses; the
// standard Unlock method would need a prompt.
func unlockLogin(t *testing.T, svc *ss.SecretService, collection dbus.ObjectPath, password string) {
	session, err := svc.OpenSession()
	if err != nil {
		t.Errorf("unlocking the login collection again: %v", err)
		return
	}
	defer svc.Close(session)
	err = svc.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
		Call("org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface.UnlockWithMasterPassword", 0,
			collection, ss.NewSecret(session.Path(), password)).Err
	if err != nil {
		t.Errorf("unlocking the login collection again: %v", err)
	}
}

func TestWithoutADBusSessionTheKeychainIsAStoreError(t *testing.T) {
	cmd := childCommand(t, "keychain-get", "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var kind int
	var msg string
	for line := range strings.Lines(string(out)) {
		if v, ok := strings.CutPrefix(line, "KIND="); ok {
			kind, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(line, "ERR="); ok {
			msg = strings.TrimSpace(v)
		}
	}
	if errs.Kind(kind) != errs.KindStore {
		t.Fatalf("kind = %v, want store; child said:\n%s", errs.Kind(kind), out)
	}
	for _, want := range []string{"D-Bus session bus", "--store file", "plaintext", "--store memory"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
	t.Logf("without a session bus: %s", msg)
}
