// Package idp groups commands about the IdP itself.
package idp

import (
	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/cmd/idp/discover"
)

// NewCmdIdP builds `idpctl idp`.
func NewCmdIdP(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "idp",
		Short:   "Learn what an identity provider offers",
		Long:    "Commands that read the IdP's published metadata.",
		Example: "  idpctl idp discover",
	}
	cmd.AddCommand(discover.NewCmdDiscover(f, nil))
	return cmd
}
