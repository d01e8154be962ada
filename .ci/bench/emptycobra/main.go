// Command emptycobra is the baseline for idpctl's start-up: a cobra program with one subcommand.
package main

import (
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{Use: "app", Short: "an empty cobra program"}
	root.AddCommand(&cobra.Command{Use: "version", Run: func(*cobra.Command, []string) { os.Stdout.WriteString("v\n") }})
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}
