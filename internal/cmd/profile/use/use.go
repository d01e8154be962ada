// Package use implements `idpctl profile use`.
package use

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
)

// UseOptions are the inputs of profile use.
type UseOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Name    string
}

// NewCmdUse builds the command.
func NewCmdUse(f *cli.Factory, runF func(context.Context, *UseOptions) error) *cobra.Command {
	opts := &UseOptions{IO: f.IOStreams, Factory: f}
	return &cobra.Command{
		Use:     "use NAME",
		Short:   "Make a profile the current one",
		Long:    "Make NAME the profile used when neither --profile nor IDPCTL_PROFILE names one.",
		Example: "  idpctl profile use prod",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			cfg, path, err := f.Config()
			if err != nil {
				return err
			}
			if _, ok := cfg.Profiles[opts.Name]; !ok {
				return errs.New(errs.KindUsage, "no profile named %q (see 'idpctl profile list')", opts.Name)
			}
			cfg.CurrentProfile = opts.Name
			if err := cfg.Save(path); err != nil {
				return err
			}
			fmt.Fprintf(opts.IO.ErrOut, "Current profile: %s\n", opts.Name)
			return nil
		},
	}
}
