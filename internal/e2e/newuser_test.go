package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/sandbox"
)

// The file store says it keeps credentials in plaintext once, when it
// creates its file, and in every doctor report; not on every call, where 20
// parallel jobs or every kubectl exec would repeat it until nobody reads it.
func TestFileStoreWarnsWhenItCreatesTheFileAndInDoctorOnly(t *testing.T) {
	t.Parallel()
	srv := startSandbox(t, sandbox.Options{})
	base := sandboxEnv(t, srv, sandbox.ServiceClientID).Set("IDPCTL_STORE", "file")
	file := filepath.Join(base.Get("XDG_STATE_HOME"), "idpctl", "credentials.json")
	warnings := func(r Result) int { return strings.Count(r.Stderr, "unencrypted") }

	first := mustRun(t, base, "", "token", "get")
	if n := warnings(first); n != 1 || !strings.Contains(first.Stderr, file) {
		t.Errorf("creating the file store: want one warning naming %s, got %d\n%s", file, n, first)
	}
	for _, args := range [][]string{{"token", "get"}, {"token", "get", "--no-cache"}} {
		r := mustRun(t, base, "", args...)
		if warnings(r) != 0 {
			t.Errorf("the warning was repeated by a call that did not create the file\n%s", r)
		}
		if r.Stdout != first.Stdout && args[len(args)-1] != "--no-cache" {
			t.Errorf("stdout changed between cached calls\n%s", r)
		}
		if strings.Count(r.Stdout, "\n") != 1 {
			t.Errorf("stdout is not one token line\n%s", r)
		}
	}
	for _, r := range []Result{first} {
		if strings.Contains(r.Stdout, "unencrypted") || strings.Count(r.Stdout, "\n") != 1 {
			t.Errorf("the warning reached stdout\n%s", r)
		}
	}

	silenced := sandboxEnv(t, srv, sandbox.ServiceClientID).Set("IDPCTL_STORE", "file").Set("IDPCTL_FILE_STORE_WARNING", "off")
	r := mustRun(t, silenced, "", "token", "get")
	if warnings(r) != 0 || r.Stderr != "" {
		t.Errorf("IDPCTL_FILE_STORE_WARNING=off did not silence the warning\n%s", r)
	}
	if strings.Count(r.Stdout, "\n") != 1 {
		t.Errorf("stdout is not one token line\n%s", r)
	}

	// doctor reports the plaintext file every time, whatever the variable.
	for _, e := range []*Env{base, silenced} {
		d := mustRun(t, e, "", "doctor", "-o", "json")
		if !strings.Contains(d.Stdout, "unencrypted") || !strings.Contains(d.Stdout, filepath.Join(e.Get("XDG_STATE_HOME"), "idpctl", "credentials.json")) {
			t.Errorf("doctor does not report the plaintext file\n%s", d)
		}
	}
}
