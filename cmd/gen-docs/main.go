// Command gen-docs writes the shell completions, man pages and Markdown
// reference from the real command tree, so they cannot drift from the
// binary. With --check it changes nothing and fails if they are stale.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/idpctl/idpctl/internal/gendocs"
)

func main() {
	check := flag.Bool("check", false, "fail if the committed files differ from what would be generated")
	flag.Parse()
	dir := "."
	if flag.NArg() > 0 {
		dir = flag.Arg(0)
	}
	if *check {
		stale, err := gendocs.Stale(dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gen-docs: %v\n", err)
			os.Exit(1)
		}
		if len(stale) > 0 {
			fmt.Fprintln(os.Stderr, "gen-docs: generated files are stale; run 'go run ./cmd/gen-docs' and commit:")
			for _, s := range stale {
				fmt.Fprintln(os.Stderr, "  "+s)
			}
			os.Exit(1)
		}
		return
	}
	if err := gendocs.Generate(dir); err != nil {
		fmt.Fprintf(os.Stderr, "gen-docs: %v\n", err)
		os.Exit(1)
	}
}
