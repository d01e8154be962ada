package credstore

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
)

// readOnlyAttempt makes dir read-only and runs readOnlyResult against it.
// Root ignores permission bits, so as root (as in CI) a child process gets
// a private mount namespace and bind-mounts dir read-only onto itself there;
// the mount vanishes with the child, whatever happens to it.
func readOnlyAttempt(t *testing.T, dir string) (errs.Kind, string, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return readOnlyByPermissions(t, dir)
	}
	cmd := childCommand(t, "read-only", "IDPCTL_TEST_DIR="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("read-only child failed: %v\n%s", err, out)
	}
	for line := range strings.Lines(string(out)) {
		if body, ok := strings.CutPrefix(line, "RESULT "); ok {
			var r readOnlyReport
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatalf("read-only child report: %v", err)
			}
			return r.Kind, r.Msg, r.Got
		}
	}
	t.Fatalf("read-only child reported nothing:\n%s", out)
	return 0, "", ""
}

// childReadOnly runs in its own mount namespace (Go makes it private to
// the child), where it remounts IDPCTL_TEST_DIR read-only.
func childReadOnly(t *testing.T) {
	dir := os.Getenv("IDPCTL_TEST_DIR")
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("bind mount: %v", err)
	}
	if err := syscall.Mount("", dir, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Fatalf("read-only remount: %v", err)
	}
	kind, msg, got := readOnlyResult(dir)
	b, _ := json.Marshal(readOnlyReport{Kind: kind, Msg: msg, Got: got})
	fmt.Printf("RESULT %s\n", b)
}
