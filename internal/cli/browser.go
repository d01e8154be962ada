package cli

import (
	"errors"
	"os/exec"
	"runtime"

	"github.com/idpctl/idpctl/internal/credstore"
)

// OpenBrowser opens a URL in the user's browser. The URL carries only
// public values (state, PKCE challenge), never a secret, so argv is fine.
func OpenBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// Reap the opener without waiting for the browser.
	go func() { _ = cmd.Wait() }()
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, credstore.ErrNotFound) }
