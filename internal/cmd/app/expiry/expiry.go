// Package expiry groups the token-lifetime commands.
package expiry

import (
	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/cmd/app/expiry/get"
	"github.com/idpctl/idpctl/internal/cmd/app/expiry/set"
)

// NewCmdExpiry builds `idpctl app expiry`.
func NewCmdExpiry(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "expiry",
		Short: "Read and change an application's token lifetimes",
		Long: `Token lifetimes live in different places per IdP (the client, a realm, an
authorization-server policy rule, the API, cluster-wide parameters) and in
different units. These commands show and change them in one model, with
the source of each value.`,
		Example: `  idpctl app expiry get payroll-app
  idpctl app expiry set payroll-app --access-token 15m --dry-run`,
	}
	cmd.AddCommand(get.NewCmdGet(f, nil), set.NewCmdSet(f, nil))
	return cmd
}
