// Package version implements `idpctl version`.
package version

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/errs"
)

// NewCmdVersion builds the command. It reads nothing but build data.
func NewCmdVersion(f *cli.Factory) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the version, commit and build date",
		Long:    "Print the version of idpctl, the commit and date it was built from, and the Go version and platform.",
		Example: "  idpctl version\n  idpctl version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info := map[string]string{
				"version": cli.Version, "commit": cli.Commit, "date": cli.Date,
				"go": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH,
			}
			switch output {
			case "json":
				return json.NewEncoder(f.IOStreams.Out).Encode(info)
			case "text":
				_, err := fmt.Fprintf(f.IOStreams.Out, "idpctl %s (commit %s, built %s, %s, %s)\n", cli.Version, cli.Commit, cli.Date, info["go"], info["platform"])
				return err
			default:
				return errs.New(errs.KindUsage, "unknown output %q: choose text or json", output)
			}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output: text or json")
	return cmd
}
