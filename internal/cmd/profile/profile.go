// Package profile groups the profile commands.
package profile

import (
	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/cmd/profile/add"
	"github.com/idpctl/idpctl/internal/cmd/profile/list"
	"github.com/idpctl/idpctl/internal/cmd/profile/remove"
	"github.com/idpctl/idpctl/internal/cmd/profile/show"
	"github.com/idpctl/idpctl/internal/cmd/profile/use"
)

// NewCmdProfile builds `idpctl profile`.
func NewCmdProfile(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Manage profiles: which IdP, which client, how to authenticate",
		Long: `Profiles live in config.yaml under the XDG config directory ($IDPCTL_CONFIG
overrides the path). Environment variables override a profile, and flags
override both; a CI job can run from environment variables alone.`,
		Example: "  idpctl profile add dev --issuer https://idp.example.com --client-id cli --client-auth none\n  idpctl profile list",
	}
	cmd.AddCommand(add.NewCmdAdd(f, nil), list.NewCmdList(f, nil), show.NewCmdShow(f, nil), use.NewCmdUse(f, nil), remove.NewCmdRemove(f, nil))
	return cmd
}
