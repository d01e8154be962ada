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
profile's provider admin API. A rotation makes a new key sign; tokens signed
with the previous key keep verifying while that key stays published. Only
where the old key is withdrawn at once (Cisco UCM's regeneration, or a
retirement where the IdP supports it) does a rotation also invalidate the
JWT access tokens already issued, which revocation cannot recall.`,
		Example: `  idpctl key list
  idpctl key regen authz signing --dry-run`,
	}
	cmd.AddCommand(list.NewCmdList(f, nil), regen.NewCmdRegen(f, nil))
	return cmd
}
