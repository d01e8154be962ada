package add

import (
	"context"
	"fmt"
	"strings"

	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
)

// readAdminSecret reads the admin API credential from stdin or a prompt,
// never from an argument, where the process list would show it.
func (opts *AddOptions) readAdminSecret() (string, error) {
	if opts.AdminSecretStdin && opts.AdminPrompt {
		return "", errs.New(errs.KindUsage, "give the admin credential one way only: --admin-secret-stdin or --admin-prompt")
	}
	if opts.AdminSecretStdin && opts.SecretStdin {
		return "", errs.New(errs.KindUsage, "stdin can carry one secret only: use --admin-secret-stdin and --prompt-secret, or run profile add twice with --overwrite")
	}
	var s string
	switch {
	case opts.AdminSecretStdin:
		raw, err := opts.IO.ReadAllIn(64 << 10)
		if err != nil {
			return "", errs.New(errs.KindUsage, "reading the admin credential from stdin: %w", err)
		}
		s = strings.TrimRight(string(raw), "\r\n")
	case opts.AdminPrompt:
		var err error
		s, err = opts.IO.ReadSecret("Admin credential: ")
		if err != nil {
			return "", errs.New(errs.KindUsage, "--admin-prompt needs a terminal; use --admin-secret-stdin in scripts")
		}
	default:
		return "", nil
	}
	if s == "" {
		return "", errs.New(errs.KindUsage, "the admin credential is empty")
	}
	return s, nil
}

// storeAdminSecret keeps the admin credential in the credential store,
// before the profile is written, like the client secret.
func (opts *AddOptions) storeAdminSecret(ctx context.Context, secret string) error {
	if secret == "" {
		return nil
	}
	f := opts.Factory
	f.Flags.Profile = opts.Name
	store, err := f.Store()
	if err != nil {
		return err
	}
	if err := store.Set(ctx, opts.Name, credstore.KindAdminCredential, []byte(secret)); err != nil {
		return fmt.Errorf("storing the admin credential: %w", err)
	}
	return nil
}
