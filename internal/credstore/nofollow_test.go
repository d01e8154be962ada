//go:build unix

package credstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestTheRefreshLockIsNeverOpenedThroughASymlink(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "locks"), 0o700); err != nil {
		t.Fatal(err)
	}
	// A link to a file the user cannot lock harmlessly: creating or
	// truncating through it would be the attack.
	target := filepath.Join(t.TempDir(), "not-there-yet")
	if err := os.Symlink(target, filepath.Join(dir, "locks", lockFileName("p"))); err != nil {
		t.Fatal(err)
	}
	unlock, err := FileLocker{Dir: dir}.Lock(context.Background(), "p")
	if err == nil {
		unlock()
		t.Error("the lock was taken through a symbolic link")
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("the link's target was created")
	}
}
