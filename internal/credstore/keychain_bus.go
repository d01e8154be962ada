//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package credstore

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
)

// errNoSessionBus is returned instead of calling go-keyring when no D-Bus
// session bus can be found.
var errNoSessionBus = errors.New("DBUS_SESSION_BUS_ADDRESS is not set and there is no /run/user/<uid>/bus")

// checkSessionBus fails when no session bus can be found. Without one,
// godbus (under go-keyring) runs dbus-launch, which starts a new bus daemon
// that outlives the process, D-Bus-activates a keyring daemon on it whose
// collection is locked, and fails anyway; every command would leave two
// daemons behind. The places looked at are godbus's own, less autolaunch.
func checkSessionBus() error {
	if sessionBusAvailable(os.Getenv("DBUS_SESSION_BUS_ADDRESS"), filepath.Join("/run/user", strconv.Itoa(os.Getuid()))) {
		return nil
	}
	return errNoSessionBus
}

func sessionBusAvailable(address, runtimeDir string) bool {
	if address != "" && address != "autolaunch:" {
		return true
	}
	for _, name := range []string{"bus", "dbus-session"} {
		if _, err := os.Stat(filepath.Join(runtimeDir, name)); err == nil {
			return true
		}
	}
	return false
}
