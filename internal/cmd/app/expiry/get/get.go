// Package get implements `idpctl app expiry get`.
package get

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
	view "github.com/idpctl/idpctl/internal/ui/lifetimes"
)

// GetOptions are the inputs of app expiry get.
type GetOptions struct {
	IO       *iostreams.IOStreams
	Provider func(context.Context) (provider.Provider, *config.Resolved, error)

	App    string
	Output string
}

// NewCmdGet builds the command.
func NewCmdGet(f *cli.Factory, runF func(context.Context, *GetOptions) error) *cobra.Command {
	opts := &GetOptions{IO: f.IOStreams, Provider: f.Provider}
	cmd := &cobra.Command{
		Use:   "get APP",
		Short: "Show an application's token lifetimes and where each comes from",
		Long: `Read an application's access-token, refresh-token and idle lifetimes and its
refresh-token rotation from the provider's admin API.

Each value is shown in human units, in the IdP's own unit (seconds, minutes,
a Go duration), and with its source: set on the app, inherited from a realm,
tenant or server default, or fixed by the vendor. APP is the application's
client id, or the id the provider's 'idpctl app list' shows.`,
		Example: `  idpctl app expiry get payroll-app
  idpctl app expiry get payroll-app -o json | jq .access_token.seconds`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.App = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return getRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output: table or json")
	return cmd
}

func getRun(ctx context.Context, opts *GetOptions) error {
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
	l, err := mgr.GetExpiry(ctx, opts.App)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(view.ToJSON(l))
	}
	p := ui.ForStdout(opts.IO)
	WriteTable(p, l)
	return nil
}

// WriteTable prints the lifetimes as a table, then the adapter's notes.
func WriteTable(p *ui.Printer, l *provider.Lifetimes) {
	rows := [][]string{}
	for _, r := range view.Rows(l) {
		rows = append(rows, []string{r.Setting, r.Value, r.Native, r.Source})
	}
	p.Table([]string{"SETTING", "VALUE", "NATIVE", "SOURCE"}, rows)
	for _, n := range l.Notes {
		p.Println(p.Dim("note: " + n))
	}
}
