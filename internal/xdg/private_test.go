//go:build unix

package xdg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnsafeNamesDirectoriesOthersCanChange(t *testing.T) {
	private := t.TempDir()
	if why := Unsafe(private); why != "" {
		t.Errorf("a 0700 directory of the user: %s", why)
	}
	if why := Unsafe(filepath.Join(private, "not-yet")); why != "" {
		t.Errorf("a missing directory: %s", why)
	}
	for _, mode := range []os.FileMode{0o777, 0o770, 0o702} {
		d := filepath.Join(t.TempDir(), "d")
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, mode); err != nil {
			t.Fatal(err)
		}
		if why := Unsafe(d); !strings.Contains(why, "written by other users") {
			t.Errorf("mode %04o: %q", mode, why)
		}
	}
	// Someone else's directory: as root, one given away; otherwise "/".
	other := "/"
	if os.Getuid() == 0 {
		other = t.TempDir()
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Skipf("cannot give a directory away: %v", err)
		}
	}
	if why := Unsafe(other); !strings.Contains(why, "belongs to user id") {
		t.Errorf("%s: %q", other, why)
	}
}
