//go:build linux

package credstore

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
)

func TestASessionBusIsFoundWhereGodbusLooksWithoutAutolaunching(t *testing.T) {
	withBus := t.TempDir()
	if err := os.WriteFile(filepath.Join(withBus, "bus"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	withSessionFile := t.TempDir()
	if err := os.WriteFile(filepath.Join(withSessionFile, "dbus-session"), []byte("DBUS_SESSION_BUS_ADDRESS=unix:abstract=/tmp/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	cases := []struct {
		name       string
		address    string
		runtimeDir string
		want       bool
	}{
		{"an address in the environment", "unix:path=/run/user/1000/bus", empty, true},
		{"the systemd user bus socket", "", withBus, true},
		{"a dbus-session file", "", withSessionFile, true},
		{"nothing", "", empty, false},
		{"autolaunch, which would start a bus that outlives us", "autolaunch:", empty, false},
	}
	for _, c := range cases {
		if got := sessionBusAvailable(c.address, c.runtimeDir); got != c.want {
			t.Errorf("%s: sessionBusAvailable = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestWithoutASessionBusTheKeychainFailsWithoutStartingOne(t *testing.T) {
	if _, err := os.Stat(filepath.Join("/run/user", strconv.Itoa(os.Getuid()), "bus")); err == nil {
		t.Skip("this machine has a user session bus, so one is always found")
	}
	cmd := childCommand(t, "keychain-get")
	cmd.Env = slices.DeleteFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") })
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "KIND="+strconv.Itoa(int(errs.KindStore))+"\n") {
		t.Fatalf("the child's error is not a store error:\n%s", out)
	}
	for _, want := range []string{"no D-Bus session bus is running", "dbus-run-session", "--store file", "--store memory"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the child's error lacks %q:\n%s", want, out)
		}
	}
}
