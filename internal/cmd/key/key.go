// Package key groups the key commands of the admin APIs.
package key

import (
	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/cmd/key/list"
	"github.com/idpctl/idpctl/internal/cmd/key/regen"
)

// NewCmdKey builds `idpctl key`.
func NewCmdKey(f *cli.Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "List and rotate the IdP's token keys (admin API)",
		Long: `Commands on the keys the IdP signs (and encrypts) tokens with, through the
profile's provider admin API. Rotating the signing key is also the way to
invalidate every JWT access token at once, where revocation cannot.`,
		Example: `  idpctl key list
  idpctl key regen authz signing --dry-run`,
	}
	cmd.AddCommand(list.NewCmdList(f, nil), regen.NewCmdRegen(f, nil))
	return cmd
}
