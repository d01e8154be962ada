// Command docker-credential-idpctl is a docker credential helper that
// answers with idpctl access tokens; see internal/cmd/dockercred.
package main

import (
	"os"

	"github.com/idpctl/idpctl/internal/cmd/dockercred"
)

func main() {
	os.Exit(dockercred.Run(os.Args[1:]))
}
