package oidcpeer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

const (
	// npmCITimeout bounds a cold `npm ci`; the registry is the slow part.
	npmCITimeout = 5 * time.Minute
	// lockStale is when a left-over install lock (a killed test binary) is
	// taken over.
	lockStale = 10 * time.Minute
)

// requireTool finds a command on PATH. End-to-end tests must not skip in CI
// (DESIGN.md, Testing), so a missing tool fails there and skips elsewhere.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("oidcpeer: %s not found on PATH; end-to-end tests need Node.js in CI: %v", name, err)
	}
	t.Skipf("oidcpeer: %s not found on PATH, skipping the oidc-provider end-to-end peer: %v", name, err)
	return ""
}

// nodeDir finds internal/e2e/oidcpeer/node. Tests run with the importing
// package's directory as working directory, so the path comes from this
// source file; a module-root search covers builds with -trimpath.
func nodeDir() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok {
		dir := filepath.Join(filepath.Dir(file), "node")
		if isFile(filepath.Join(dir, "server.mjs")) {
			return dir, nil
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("locate oidcpeer node dir: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if isFile(filepath.Join(dir, "go.mod")) {
			nd := filepath.Join(dir, "internal", "e2e", "oidcpeer", "node")
			if isFile(filepath.Join(nd, "server.mjs")) {
				return nd, nil
			}
			return "", fmt.Errorf("locate oidcpeer node dir: no server.mjs under %s", nd)
		}
		if filepath.Dir(dir) == dir {
			return "", errors.New("locate oidcpeer node dir: no go.mod above the working directory")
		}
	}
}

func isFile(name string) bool {
	st, err := os.Stat(name)
	return err == nil && st.Mode().IsRegular()
}

// modulesCurrent reports whether node_modules holds the versions that
// package-lock.json pins for the packages server.mjs imports, so a stale
// install from an older lockfile is replaced rather than used.
func modulesCurrent(dir string) (bool, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return false, fmt.Errorf("read package-lock.json: %w", err)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		return false, fmt.Errorf("parse package-lock.json: %w", err)
	}
	for _, name := range []string{"oidc-provider", "jose"} {
		key := "node_modules/" + name
		want, ok := lock.Packages[key]
		if !ok {
			return false, fmt.Errorf("package-lock.json does not pin %s", name)
		}
		raw, err := os.ReadFile(filepath.Join(dir, key, "package.json"))
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read installed %s: %w", name, err)
		}
		var got struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			return false, fmt.Errorf("parse installed %s package.json: %w", name, err)
		}
		if got.Version != want.Version {
			return false, nil
		}
	}
	return true, nil
}

// ensureModules runs `npm ci` when node_modules is missing or stale. Several
// test binaries (one per package) may start peers at once, so the install is
// serialised across processes by a lock directory (mkdir is atomic on every
// platform) and re-checked after the lock is taken.
func ensureModules(t testing.TB, dir string) {
	t.Helper()
	ok, err := modulesCurrent(dir)
	if err != nil {
		t.Fatalf("oidcpeer: %v", err)
	}
	if ok {
		return
	}
	npm := requireTool(t, "npm")

	lock := filepath.Join(dir, ".npm-ci.lock")
	deadline := time.Now().Add(npmCITimeout + time.Minute)
	for {
		err := os.Mkdir(lock, 0o700)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("oidcpeer: take install lock: %v", err)
		}
		if st, statErr := os.Stat(lock); statErr == nil && time.Since(st.ModTime()) > lockStale {
			_ = os.Remove(lock)
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("oidcpeer: timed out waiting for another npm ci (lock %s)", lock)
		}
		time.Sleep(250 * time.Millisecond)
	}
	defer func() { _ = os.Remove(lock) }()

	if ok, err := modulesCurrent(dir); err != nil {
		t.Fatalf("oidcpeer: %v", err)
	} else if ok {
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), npmCITimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("oidcpeer: npm ci in %s: %v\n%s", dir, err, out.String())
	}
	if ok, err := modulesCurrent(dir); err != nil || !ok {
		t.Fatalf("oidcpeer: node_modules still not matching package-lock.json after npm ci (err %v)", err)
	}
}
