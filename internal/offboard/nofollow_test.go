//go:build unix

package offboard

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/provider"
)

// A symbolic link planted where the journal or its lock goes must not
// redirect idpctl's writes to the link's target.
func TestTheJournalAndItsLockAreNeverOpenedThroughASymlink(t *testing.T) {
	for _, which := range []string{"journal", "lock"} {
		t.Run(which, func(t *testing.T) {
			dir := t.TempDir()
			key := JournalKey{Provider: "okta", Profile: "p", Input: []byte("alice\n")}
			path := JournalPath(dir, key)
			if which == "lock" {
				path += ".lock"
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(t.TempDir(), "victim")
			if err := os.WriteFile(target, []byte("precious\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			j, err := OpenJournal(dir, key, JournalNew, "leavers.txt", 1, time.Now())
			if err == nil {
				err = j.Record(Result{User: "alice", Outcome: provider.OutcomeRevoked})
				_ = j.Close()
			}
			if err == nil {
				t.Error("the journal was written through a symbolic link")
			}
			if b, _ := os.ReadFile(target); string(b) != "precious\n" {
				t.Errorf("the link's target was changed: %q", b)
			}
		})
	}
}
