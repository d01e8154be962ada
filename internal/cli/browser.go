package cli

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/tokens"
)

// OpenBrowser opens a URL in the user's browser. The URL carries only
// public values (state, PKCE challenge), never a secret, so argv is fine.
func OpenBrowser(raw string) error {
	if err := tokens.BrowsableURL(raw); err != nil {
		return err
	}
	url := raw
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	cmd.Env = ChildEnv(os.Environ())
	if err := cmd.Start(); err != nil {
		return err
	}
	// Reap the opener without waiting for the browser.
	go func() { _ = cmd.Wait() }()
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, credstore.ErrNotFound) }

// secretNameParts mark environment variables that hold credentials: ours
// (IDPCTL_CLIENT_SECRET, IDPCTL_ADMIN_SECRET, IDPCTL_KEYRING_PASSWORD, the
// IDPCTL_ACCESS_TOKEN of `-o env`) and everyone else's (CI tokens, cloud
// keys). A browser or its opener has no use for them, and a child process
// can read, log or pass on its whole environment.
var secretNameParts = []string{"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "PRIVATE_KEY", "PRIVATEKEY", "ASSERTION", "CREDENTIAL", "API_KEY", "APIKEY", "COOKIE", "SESSION_KEY"}

// ChildEnv is environ without the variables whose names look like they
// hold a secret; every process idpctl starts gets this environment.
func ChildEnv(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !secretLookingName(name) {
			out = append(out, kv)
		}
	}
	return out
}

func secretLookingName(name string) bool {
	up := strings.ToUpper(name)
	for _, part := range secretNameParts {
		if strings.Contains(up, part) {
			return true
		}
	}
	return strings.HasSuffix(up, "_KEY")
}
