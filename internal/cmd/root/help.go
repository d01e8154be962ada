package root

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/provider/registry"
)

// addHelpTopics adds `idpctl help environment` and `idpctl help exit-codes`
// as help topics (commands without Run, which cobra lists separately),
// generated from the same tables the code uses.
func addHelpTopics(root *cobra.Command) {
	root.AddCommand(&cobra.Command{
		Use:   "environment",
		Short: "Environment variables idpctl reads",
		Long:  "Environment variables override the configuration file; flags override both.\n\n" + EnvironmentText(),
	}, &cobra.Command{
		Use:   "exit-codes",
		Short: "Exit codes and what they mean",
		Long:  "Scripts can branch on these codes; their meaning never changes.\n\n" + ExitCodesText(),
	})
}

// EnvironmentText lists the environment variables.
func EnvironmentText() string {
	var b strings.Builder
	for _, e := range config.EnvVars {
		if e.Name == "IDPCTL_PROVIDER" {
			// The names come from the registry, so a new provider is listed.
			e.Description = "admin API provider: " + strings.Join(registry.Names(), ", ")
		}
		fmt.Fprintf(&b, "  %-27s %s\n", e.Name, e.Description)
	}
	fmt.Fprintf(&b, "  %-27s %s\n", "IDPCTL_DEBUG", "set to 1 (or true) for the same trace as --debug")
	fmt.Fprintf(&b, "  %-27s %s\n", "IDPCTL_DISCOVERY_TTL", "how long discovery documents are cached (default 1h)")
	fmt.Fprintf(&b, "  %-27s %s\n", "IDPCTL_PROXY_LOOPBACK", "set to 1 to let a proxy on loopback carry requests to loopback hosts (never by default)")
	return b.String()
}

// ExitCodesText lists the exit codes.
func ExitCodesText() string {
	var b strings.Builder
	for _, e := range cli.ExitCodes {
		fmt.Fprintf(&b, "  %3d  %s\n", e.Code, e.Meaning)
	}
	return b.String()
}
