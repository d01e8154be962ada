// Command idpctl manages OAuth 2.0 and OpenID Connect tokens and IdP admin
// operations from the command line.
package main

import (
	"os"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/cmd/root"
)

func main() {
	err := root.Run(os.Args[1:])
	os.Exit(cli.ExitCode(err))
}
