// Package xdg finds the per-user directories of the XDG Base Directory
// specification, with the platform's usual fallbacks, so configuration,
// state (file store, audit log, locks) and caches each go where users and
// backup tools expect them.
package xdg

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
)

const app = "idpctl"

// ConfigDir is $XDG_CONFIG_HOME/idpctl, else the OS config dir.
func ConfigDir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, app), nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", errors.New("cannot find a configuration directory: set XDG_CONFIG_HOME or HOME")
	}
	return filepath.Join(d, app), nil
}

// StateDir is $XDG_STATE_HOME/idpctl, else ~/.local/state/idpctl (on
// Windows and macOS, which have no state dir, the config dir's sibling).
func StateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, app), nil
	}
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		d, err := os.UserConfigDir()
		if err != nil {
			return "", errors.New("cannot find a state directory: set XDG_STATE_HOME")
		}
		return filepath.Join(d, app, "state"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.New("cannot find a state directory: set XDG_STATE_HOME or HOME")
	}
	return filepath.Join(home, ".local", "state", app), nil
}

// CacheDir is $XDG_CACHE_HOME/idpctl, else the OS cache dir.
func CacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, app), nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", errors.New("cannot find a cache directory: set XDG_CACHE_HOME or HOME")
	}
	return filepath.Join(d, app), nil
}
