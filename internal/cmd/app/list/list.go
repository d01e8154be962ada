// Package list implements `idpctl app list`.
package list

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/registry"
	"github.com/idpctl/idpctl/internal/ui"
)

// ListOptions are the inputs of app list.
type ListOptions struct {
	IO       *iostreams.IOStreams
	Provider func(context.Context) (provider.Provider, *config.Resolved, error)
	Output   string
}

// NewCmdList builds the command.
func NewCmdList(f *cli.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Provider: f.Provider}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the applications the admin credential can see",
		Long: `List the applications (OAuth clients) of the profile's provider, as its admin
API shows them to the admin credential: the id to pass to 'app expiry', the
client id, and the name.`,
		Example: `  idpctl app list
  idpctl app list -o json | jq -r '.[].client_id'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output: table or json")
	return cmd
}

func listRun(ctx context.Context, opts *ListOptions) error {
	if opts.Output != "table" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose table or json", opts.Output)
	}
	prov, _, err := opts.Provider(ctx)
	if err != nil {
		return err
	}
	mgr, err := registry.ExpiryManager(prov)
	if err != nil {
		return err
	}
	apps, err := mgr.ListApps(ctx)
	if err != nil {
		return err
	}
	if apps == nil {
		apps = []provider.App{}
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(apps)
	}
	if len(apps) == 0 {
		ui.New(opts.IO.ErrOut, opts.IO.ColorEnabledStderr()).Println("No applications visible to the admin credential.")
		return nil
	}
	rows := make([][]string, len(apps))
	for i, a := range apps {
		rows[i] = []string{a.ID, dash(a.ClientID), dash(a.Name)}
	}
	ui.ForStdout(opts.IO).Table([]string{"ID", "CLIENT ID", "NAME"}, rows)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
