//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSavingThroughASymlinkedConfigKeepsTheLink(t *testing.T) {
	for _, dangling := range []bool{false, true} {
		dir := t.TempDir()
		dotfiles := filepath.Join(t.TempDir(), "dotfiles")
		if err := os.MkdirAll(dotfiles, 0o700); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dotfiles, "idpctl.yaml")
		if !dangling {
			if err := os.WriteFile(target, []byte("profiles: {}\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		link := filepath.Join(dir, "config.yaml")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		c := &Config{Profiles: map[string]*Profile{"work": {Issuer: "https://idp.example"}}}
		if err := c.Save(link); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(link)
		if err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("dangling=%v: config.yaml is no longer a symbolic link", dangling)
		}
		b, err := os.ReadFile(target)
		if err != nil || !strings.Contains(string(b), "https://idp.example") {
			t.Fatalf("dangling=%v: the link's target does not hold the new configuration: %q %v", dangling, b, err)
		}
		if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
			t.Errorf("the target's mode is %v, want 0600", fi.Mode().Perm())
		}
	}
}
