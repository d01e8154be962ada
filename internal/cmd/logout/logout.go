// Package logout implements `idpctl logout`.
package logout

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/tokens"
	"github.com/idpctl/idpctl/internal/ui"
)

// LogoutOptions are the inputs of logout.
type LogoutOptions struct {
	IO        *iostreams.IOStreams
	Factory   *cli.Factory
	LocalOnly bool
	Force     bool
}

// NewCmdLogout builds the command.
func NewCmdLogout(f *cli.Factory, runF func(context.Context, *LogoutOptions) error) *cobra.Command {
	opts := &LogoutOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Revoke the profile's tokens at the IdP, then forget everything cached for it",
		Long: `Revoke the profile's cached refresh and access tokens (RFC 7009), then delete
every item the credential store holds for the profile: tokens, the stored
client secret and admin credential, chunks included.

If the IdP cannot be reached, nothing is forgotten (so the revocation can be
retried) unless --force is given. --local-only skips the revocation.`,
		Example: `  idpctl logout
  idpctl logout --profile old-tenant --local-only`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return logoutRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.LocalOnly, "local-only", false, "forget locally without asking the IdP to revoke")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "forget locally even if the revocation failed")
	return cmd
}

func logoutRun(ctx context.Context, opts *LogoutOptions) error {
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	store, err := f.Store()
	if err != nil {
		return err
	}
	// Under the refresh lock: a refresh running meanwhile would otherwise
	// save a new refresh token after it was revoked and forgotten.
	unlock, err := f.LockProfile(ctx, p.Name)
	if err != nil {
		return err
	}
	defer unlock()
	var revokeErr error
	if !opts.LocalOnly {
		client, err := f.OAuthClient(ctx, p)
		if err == nil {
			var results []tokens.Outcome
			results, err = revokeCached(ctx, f, p, client)
			if len(results) > 0 {
				report := make([]ui.Revocation, len(results))
				for i, r := range results {
					report[i] = ui.Revocation{Kind: r.Kind, Result: r.Result, Note: r.Note}
				}
				ui.New(opts.IO.ErrOut, opts.IO.ColorEnabledStderr()).Revocations(report)
			}
		}
		if err != nil && !errs.Is(err, errs.KindLoginRequired) {
			revokeErr = err
			if !opts.Force {
				return fmt.Errorf("%w; nothing was forgotten (retry, or use --force to forget anyway)", err)
			}
		}
	}
	if err := credstore.DeleteProfile(ctx, store, p.Name); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Forgot everything cached for profile %q.\n", p.Name)
	if revokeErr != nil {
		return fmt.Errorf("forgot locally, but the IdP did not confirm the revocation: %w", revokeErr)
	}
	return nil
}

func revokeCached(ctx context.Context, f *cli.Factory, p *config.Resolved, client tokens.Revoker) ([]tokens.Outcome, error) {
	cache, err := f.CachedTokens(p)
	if err != nil {
		return nil, err
	}
	return cache.RevokeCached(ctx, client)
}
