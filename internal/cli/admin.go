package cli

import (
	"fmt"
	"time"

	"github.com/idpctl/idpctl/internal/admin"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/ui"
)

// AdminGuard is the guarded runner of the admin commands: questions go
// through Confirm (--yes, a terminal, destructive changes), and a failed
// audit append is a warning on stderr.
func AdminGuard(ios *iostreams.IOStreams, yes bool, openAudit func() (admin.Recorder, error), now func() time.Time) *admin.Guard {
	return &admin.Guard{
		Audit: openAudit,
		Confirm: admin.ConfirmFunc(func(destructive bool, question string) error {
			return Confirm(ios, yes, destructive, question)
		}),
		Now: now,
		Warn: func(err error) {
			fmt.Fprintf(ios.ErrOut, "warning: %s\n", ui.Sanitize(err.Error()))
		},
	}
}
