//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package credstore

import "errors"

// errNoSessionBus exists on every platform for keychainProblem; only the
// Secret Service platforms ever return it.
var errNoSessionBus = errors.New("no D-Bus session bus")

// checkSessionBus: the keychains of macOS and Windows need no D-Bus.
func checkSessionBus() error { return nil }
