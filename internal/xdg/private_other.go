//go:build !unix

package xdg

// Unsafe reports nothing where Unix ownership and modes do not apply; on
// Windows the profile directories carry per-user ACLs.
func Unsafe(dir string) string { return "" }
