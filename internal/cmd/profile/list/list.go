// Package list implements `idpctl profile list`.
package list

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/ui"
)

// ListOptions are the inputs of profile list.
type ListOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Output  string
}

// NewCmdList builds the command.
func NewCmdList(f *cli.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Factory: f}
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the profiles in the configuration file",
		Long:    "List every profile with its issuer, client and provider; the current profile is marked with *.",
		Example: "  idpctl profile list\n  idpctl profile list -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output: table or json")
	return cmd
}

func listRun(opts *ListOptions) error {
	if opts.Output != "table" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose table or json", opts.Output)
	}
	cfg, _, err := opts.Factory.Config()
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		type entry struct {
			Name     string `json:"name"`
			Current  bool   `json:"current"`
			Issuer   string `json:"issuer,omitempty"`
			ClientID string `json:"client_id,omitempty"`
			Provider string `json:"provider,omitempty"`
		}
		out := []entry{}
		for _, n := range cfg.Names() {
			p := cfg.Profiles[n]
			out = append(out, entry{n, n == cfg.CurrentProfile, p.Issuer, p.ClientID, p.Provider})
		}
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	pr := ui.ForStdout(opts.IO)
	rows := [][]string{}
	for _, n := range cfg.Names() {
		p := cfg.Profiles[n]
		mark := " "
		if n == cfg.CurrentProfile {
			mark = "*"
		}
		issuer := p.Issuer
		if issuer == "" {
			issuer = p.Endpoints.Token
		}
		provider := p.Provider
		if provider == "" {
			provider = "generic"
		}
		rows = append(rows, []string{mark, n, issuer, p.ClientID, provider})
	}
	if len(rows) == 0 {
		// A message, not data: stdout stays empty for scripts that read
		// profile names from it.
		fmt.Fprintln(opts.IO.ErrOut, "No profiles yet: add one with 'idpctl profile add NAME --issuer URL --client-id ID'.")
		return nil
	}
	pr.Table([]string{"", "NAME", "ISSUER", "CLIENT ID", "PROVIDER"}, rows)
	return nil
}
