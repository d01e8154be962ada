// Package gendocs generates completions/, man/man1/ and docs/reference/
// from the command tree built with a factory that touches nothing: no
// configuration, keychain or network.
package gendocs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/cmd/dockercred"
	"github.com/idpctl/idpctl/internal/cmd/root"
	"github.com/idpctl/idpctl/internal/iostreams"
)

// manDate is printed in the man pages' .TH line. It is fixed, not today's
// date, so regenerating an unchanged tree changes nothing; bump it with a
// release that changes the pages.
var manDate = time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)

// Tree builds the command tree as the binary does.
func Tree() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios, func(string) string { return "" }, "dev")
	cmd := root.NewCmdRoot(f)
	cmd.DisableAutoGenTag = true
	// cobra adds these two when it executes; add them here so their pages exist.
	cmd.InitDefaultCompletionCmd()
	cmd.InitDefaultHelpCmd()
	return cmd
}

// DockerTree builds the command tree of docker-credential-idpctl, the
// second binary of the release.
func DockerTree() *cobra.Command {
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios, func(string) string { return "" }, "dev")
	cmd := dockercred.NewCmdDockerCredential(f)
	cmd.DisableAutoGenTag = true
	cmd.InitDefaultCompletionCmd()
	cmd.InitDefaultHelpCmd()
	return cmd
}

// Generate writes every artefact under dir, removing files of commands
// that no longer exist.
func Generate(dir string) error {
	trees := []*cobra.Command{Tree(), DockerTree()}
	each := func(gen func(*cobra.Command, string) error) func(string) error {
		return func(d string) error {
			for _, cmd := range trees {
				if err := gen(cmd, d); err != nil {
					return err
				}
			}
			return nil
		}
	}
	targets := map[string]func(string) error{
		"completions":    each(completions),
		"man/man1":       each(manPages),
		"docs/reference": each(markdown),
	}
	for sub, gen := range targets {
		out := filepath.Join(dir, sub)
		if err := os.RemoveAll(out); err != nil {
			return err
		}
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		if err := gen(out); err != nil {
			return fmt.Errorf("%s: %w", sub, err)
		}
	}
	return nil
}

func completions(cmd *cobra.Command, dir string) error {
	name := cmd.Name()
	writers := map[string]func(*bytes.Buffer) error{
		name + ".bash": func(b *bytes.Buffer) error { return cmd.GenBashCompletionV2(b, true) },
		"_" + name:     func(b *bytes.Buffer) error { return cmd.GenZshCompletion(b) },
		name + ".fish": func(b *bytes.Buffer) error { return cmd.GenFishCompletion(b, true) },
		name + ".ps1":  func(b *bytes.Buffer) error { return cmd.GenPowerShellCompletionWithDesc(b) },
	}
	for name, w := range writers {
		var b bytes.Buffer
		if err := w(&b); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func manPages(cmd *cobra.Command, dir string) error {
	header := &doc.GenManHeader{Title: strings.ToUpper(cmd.Name()), Section: "1", Source: "idpctl", Manual: "idpctl manual", Date: &manDate}
	return doc.GenManTree(cmd, header, dir)
}

func markdown(cmd *cobra.Command, dir string) error {
	link := func(name string) string { return strings.TrimSuffix(name, ".md") + ".md" }
	return doc.GenMarkdownTreeCustom(cmd, dir, func(string) string { return "" }, link)
}

// Stale regenerates into a temporary directory and lists the files under
// dir that differ, are missing, or should no longer exist.
func Stale(dir string) ([]string, error) {
	tmp, err := os.MkdirTemp("", "idpctl-gendocs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := Generate(tmp); err != nil {
		return nil, err
	}
	var stale []string
	for _, sub := range []string{"completions", "man/man1", "docs/reference"} {
		want, err := readTree(filepath.Join(tmp, sub))
		if err != nil {
			return nil, err
		}
		have, err := readTree(filepath.Join(dir, sub))
		if err != nil {
			return nil, err
		}
		for name, content := range want {
			if got, ok := have[name]; !ok {
				stale = append(stale, filepath.Join(sub, name)+" (missing)")
			} else if !bytes.Equal(got, content) {
				stale = append(stale, filepath.Join(sub, name)+" (out of date)")
			}
		}
		for name := range have {
			if _, ok := want[name]; !ok {
				stale = append(stale, filepath.Join(sub, name)+" (no such command any more)")
			}
		}
	}
	return stale, nil
}

func readTree(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = b
	}
	return out, nil
}
