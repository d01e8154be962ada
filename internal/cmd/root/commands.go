package root

import (
	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/cmd/app"
	auditcmd "github.com/idpctl/idpctl/internal/cmd/audit"
	"github.com/idpctl/idpctl/internal/cmd/demo"
	"github.com/idpctl/idpctl/internal/cmd/doctor"
	"github.com/idpctl/idpctl/internal/cmd/gitcredential"
	"github.com/idpctl/idpctl/internal/cmd/idp"
	"github.com/idpctl/idpctl/internal/cmd/key"
	"github.com/idpctl/idpctl/internal/cmd/login"
	"github.com/idpctl/idpctl/internal/cmd/logout"
	"github.com/idpctl/idpctl/internal/cmd/profile"
	"github.com/idpctl/idpctl/internal/cmd/sandbox"
	"github.com/idpctl/idpctl/internal/cmd/token"
	"github.com/idpctl/idpctl/internal/cmd/version"
)

// commands lists the top-level commands in the order help shows them.
func commands(f *cli.Factory) []*cobra.Command {
	return []*cobra.Command{
		token.NewCmdToken(f, nil),
		login.NewCmdLogin(f, nil),
		logout.NewCmdLogout(f, nil),
		app.NewCmdApp(f),
		key.NewCmdKey(f),
		auditcmd.NewCmdAudit(f, nil),
		profile.NewCmdProfile(f),
		idp.NewCmdIdP(f),
		gitcredential.NewCmdGitCredential(f, nil),
		doctor.NewCmdDoctor(f, nil),
		sandbox.NewCmdSandbox(f, nil),
		demo.NewCmdDemo(f, nil),
		version.NewCmdVersion(f),
	}
}
