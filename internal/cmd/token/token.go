// Package token groups the token lifecycle commands.
package token

import (
	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/cmd/token/get"
	"github.com/idpctl/idpctl/internal/cmd/token/inspect"
	"github.com/idpctl/idpctl/internal/cmd/token/list"
	"github.com/idpctl/idpctl/internal/cmd/token/proof"
	"github.com/idpctl/idpctl/internal/cmd/token/refresh"
	"github.com/idpctl/idpctl/internal/cmd/token/revoke"
)

// NewCmdToken builds `idpctl token`.
func NewCmdToken(f *cli.Factory, revokeCmd *cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Get, refresh, inspect, list and revoke tokens",
		Long: `The OAuth 2.0 token lifecycle against any standards-compliant IdP: obtain
(RFC 6749 grants, RFC 8628 device, RFC 7523 JWT bearer, RFC 8693 exchange),
refresh, inspect (JWT verification, RFC 7662 introspection), revoke
(RFC 7009), and list what is cached.`,
		Example: `  idpctl token get
  idpctl token inspect
  idpctl token refresh
  idpctl token revoke`,
	}
	if revokeCmd == nil {
		revokeCmd = revoke.NewCmdRevoke(f, nil)
	}
	cmd.AddCommand(get.NewCmdGet(f, nil), refresh.NewCmdRefresh(f, nil), revokeCmd, inspect.NewCmdInspect(f, nil), list.NewCmdList(f, nil), proof.NewCmdProof(f, nil))
	return cmd
}
