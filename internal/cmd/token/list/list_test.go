package list

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/iostreams"
)

// Each profile is read from its own store: a profile kept in the file
// store shows its tokens even when the current profile uses another.
func TestEveryProfileIsReadFromItsOwnStore(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("current_profile: kc\nprofiles:\n  fileprof:\n    issuer: https://a.example\n    store: file\n  kc:\n    issuer: https://b.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	file, err := credstore.Open(credstore.OpenOptions{Backend: credstore.BackendFile, StateDir: filepath.Join(state, "idpctl")})
	if err != nil {
		t.Fatal(err)
	}
	if err := credstore.SaveJSON(ctx, file, "fileprof", credstore.KindAccessToken, credstore.AccessToken{AccessToken: "a", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	// The current profile's store (the keychain here) stands in as memory.
	ios, out, _, f, mem := factory(cfg)
	if err := credstore.SaveJSON(ctx, mem, "kc", credstore.KindAccessToken, credstore.AccessToken{AccessToken: "b", ExpiresAt: exp}); err != nil {
		t.Fatal(err)
	}
	if err := listRun(ctx, &ListOptions{IO: ios, Factory: f, Now: time.Now, Output: "json"}); err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	if err := json.Unmarshal(out.Bytes(), &entries); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := map[string]bool{}
	for _, e := range entries {
		got[e.Profile] = e.AccessToken != nil
	}
	if !got["fileprof"] || !got["kc"] {
		t.Fatalf("cached access tokens by profile: %v", got)
	}
}

// A keychain this machine cannot reach hides only the lines of profiles
// kept there, with the reason, not the whole listing.
func TestAStoreThatCannotBeOpenedIsReportedOnItsProfilesOnly(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/idpctl-test-bus")
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("current_profile: mem\nprofiles:\n  mem:\n    issuer: https://a.example\n    store: memory\n  kc:\n    issuer: https://b.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ios, out, errOut, f, mem := factory(cfg)
	ctx := context.Background()
	if err := credstore.SaveJSON(ctx, mem, "mem", credstore.KindAccessToken, credstore.AccessToken{AccessToken: "a", ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := listRun(ctx, &ListOptions{IO: ios, Factory: f, Now: time.Now, Output: "json"}); err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	if err := json.Unmarshal(out.Bytes(), &entries); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	byName := map[string]Entry{}
	for _, e := range entries {
		byName[e.Profile] = e
	}
	if byName["mem"].AccessToken == nil || byName["kc"].StoreError == "" {
		t.Fatalf("entries %+v (stderr %s)", entries, errOut)
	}
}

// factory is a factory reading the configuration file cfg, whose current
// profile's store is the memory store returned.
func factory(cfg string) (*iostreams.IOStreams, *bytes.Buffer, *bytes.Buffer, *cli.Factory, *credstore.Memory) {
	ios, _, out, errOut := iostreams.Test()
	f := cli.New(ios, func(k string) string {
		if k == "IDPCTL_CONFIG" {
			return cfg
		}
		return ""
	}, "test")
	mem := credstore.NewMemory()
	f.Store = func() (credstore.Store, error) { return mem, nil }
	return ios, out, errOut, f, mem
}
