//go:build unix

package xdg

import (
	"fmt"
	"os"
	"syscall"
)

// Unsafe says why dir is not private to the user running idpctl, or ""
// when it is (or does not exist yet). A directory others can write to lets
// them replace the configuration (and with it the issuer and the CA file)
// or plant files and links among the audit log, journals and locks; one
// owned by someone else is theirs to change at will.
func Unsafe(dir string) string {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() {
		return ""
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Sprintf("%s belongs to user id %d, not to you (%d)", dir, st.Uid, os.Getuid())
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Sprintf("%s can be written by other users (mode %04o): run chmod go-w %s", dir, perm, dir)
	}
	return ""
}
