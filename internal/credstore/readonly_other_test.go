//go:build !linux

package credstore

import (
	"os"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
)

func readOnlyAttempt(t *testing.T, dir string) (errs.Kind, string, string) {
	t.Helper()
	if os.Geteuid() == 0 {
		t.Skip("root ignores permission bits, and only Linux has the private mount namespace used instead")
	}
	return readOnlyByPermissions(t, dir)
}

func childReadOnly(t *testing.T) { t.Fatal("the read-only child runs on Linux only") }
