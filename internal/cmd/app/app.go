// Package app groups the application commands of the admin APIs.
package app

import (
	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/cmd/app/expiry"
	"github.com/idpctl/idpctl/internal/cmd/app/list"
)

// NewCmdApp builds `idpctl app`.
func NewCmdApp(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "app",
		Short: "List applications and manage their token lifetimes (admin API)",
		Long: `Commands on the IdP's applications (OAuth clients) through the profile's
provider admin API; the profile needs a provider and an admin credential
(see 'idpctl profile add --help').`,
		Example: `  idpctl app list
  idpctl app expiry get payroll-app`,
	}
	cmd.AddCommand(list.NewCmdList(f, nil), expiry.NewCmdExpiry(f))
	return cmd
}
