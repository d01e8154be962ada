// Package remove implements `idpctl profile remove`.
package remove

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
)

// RemoveOptions are the inputs of profile remove.
type RemoveOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Name    string
}

// NewCmdRemove builds the command.
func NewCmdRemove(f *cli.Factory, runF func(context.Context, *RemoveOptions) error) *cobra.Command {
	opts := &RemoveOptions{IO: f.IOStreams, Factory: f}
	return &cobra.Command{
		Use:        "remove NAME",
		SuggestFor: []string{"delete", "rm", "del"},
		Short:      "Delete a profile and everything the credential store holds for it",
		Long: `Delete the profile from the configuration file and every item the credential
store holds for it (tokens, client secret, admin credential, chunks included).
Tokens are not revoked: run 'idpctl logout' first for that.`,
		Example: "  idpctl logout --profile old && idpctl profile remove old",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return removeRun(cmd.Context(), opts)
		},
	}
}

func removeRun(ctx context.Context, opts *RemoveOptions) error {
	f := opts.Factory
	cfg, path, err := f.Config()
	if err != nil {
		return err
	}
	if _, ok := cfg.Profiles[opts.Name]; !ok {
		return errs.New(errs.KindUsage, "no profile named %q (see 'idpctl profile list')", opts.Name)
	}
	f.Flags.Profile = opts.Name
	store, err := f.Store()
	if err != nil {
		return err
	}
	// Under the refresh lock, so a refresh running meanwhile cannot put
	// tokens back after they are deleted.
	unlock, err := f.LockProfile(ctx, opts.Name)
	if err != nil {
		return err
	}
	defer unlock()
	// Secrets first: a profile entry without secrets is harmless, secrets
	// without a profile are forgotten but still there.
	if err := credstore.DeleteProfile(ctx, store, opts.Name); err != nil {
		return fmt.Errorf("removing the stored credentials (the profile is kept): %w", err)
	}
	delete(cfg.Profiles, opts.Name)
	if cfg.CurrentProfile == opts.Name {
		cfg.CurrentProfile = ""
	}
	if err := cfg.Save(path); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Removed profile %q and its stored credentials.\n", opts.Name)
	return nil
}
