//go:build unix

package audit

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTheAuditLogAndItsLockAreNeverOpenedThroughASymlink(t *testing.T) {
	for _, which := range []string{"log", "lock"} {
		t.Run(which, func(t *testing.T) {
			dir := t.TempDir()
			l := &Log{Path: filepath.Join(dir, "audit.log")}
			link := l.Path
			if which == "lock" {
				link += ".lock"
			}
			target := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(target, []byte("precious\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			if err := l.Append(Entry{Action: ActionRevokeUser, User: "alice", Result: "revoked"}); err == nil {
				t.Error("the audit log was written through a symbolic link")
			}
			if b, _ := os.ReadFile(target); string(b) != "precious\n" {
				t.Errorf("the link's target was changed: %q", b)
			}
		})
	}
}
