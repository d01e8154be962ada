package gendocs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestGenerateWritesEveryArtefactAndCheckFindsStaleOnes(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"completions/idpctl.bash", "completions/_idpctl", "completions/idpctl.fish", "completions/idpctl.ps1", "man/man1/idpctl-token-get.1", "docs/reference/idpctl_token_get.md",
		"completions/docker-credential-idpctl.bash", "completions/_docker-credential-idpctl", "man/man1/docker-credential-idpctl-get.1", "docs/reference/docker-credential-idpctl_get.md"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("missing %s", p)
		}
	}
	if stale, err := Stale(dir); err != nil || len(stale) != 0 {
		t.Fatalf("a fresh tree is stale: %v %v", stale, err)
	}
	page := filepath.Join(dir, "man/man1/idpctl-token-get.1")
	if err := os.WriteFile(page, []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "docs/reference/idpctl_gone.md"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "completions/idpctl.fish"))
	stale, err := Stale(dir)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(stale, "\n")
	for _, want := range []string{"idpctl-token-get.1 (out of date)", "idpctl_gone.md (no such command any more)", "idpctl.fish (missing)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("Stale did not report %q:\n%s", want, joined)
		}
	}
}

func TestEveryCommandIsDocumentedAndEveryFlagDescribed(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || strings.Contains(c.CommandPath(), " completion ") {
			return
		}
		if c.Short == "" {
			t.Errorf("%s has no Short", c.CommandPath())
		}
		if c.Long == "" {
			t.Errorf("%s has no Long", c.CommandPath())
		}
		if c.Example == "" && !c.IsAdditionalHelpTopicCommand() {
			t.Errorf("%s has no Example", c.CommandPath())
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if strings.TrimSpace(f.Usage) == "" {
				t.Errorf("%s --%s has no usage", c.CommandPath(), f.Name)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(Tree())
	walk(DockerTree())
}

func TestTheBashCompletionLoads(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	dir := t.TempDir()
	if err := Generate(dir); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("bash", "-c", "source "+filepath.Join(dir, "completions/idpctl.bash")+" && complete -p idpctl").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "idpctl") {
		t.Fatalf("loading the completion: %v\n%s", err, out)
	}
}
