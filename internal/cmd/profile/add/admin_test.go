package add

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
)

func TestTheAdminCredentialGoesFromStdinToTheStoreAndNeverToTheFile(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	ios, in, _, _ := iostreams.Test()
	f := cli.New(ios, func(k string) string {
		if k == "IDPCTL_CONFIG" {
			return cfgPath
		}
		return ""
	}, "test")
	store := credstore.NewMemory()
	f.Store = func() (credstore.Store, error) { return store, nil }
	in.WriteString("ssws-admin-token\n")
	cmd := NewCmdAdd(f, nil)
	f.Flags.Issuer = "https://corp.okta.example"
	cmd.SetArgs([]string{"corp", "--provider", "okta", "--admin", "auth=ssws", "--admin-secret-stdin"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(context.Background(), "corp", credstore.KindAdminCredential)
	if err != nil || string(got) != "ssws-admin-token" {
		t.Fatalf("stored %q, %v", got, err)
	}
	raw, _ := os.ReadFile(cfgPath)
	if strings.Contains(string(raw), "ssws-admin-token") || !strings.Contains(string(raw), "auth: ssws") {
		t.Fatalf("config file:\n%s", raw)
	}
}

func TestStdinCarriesOneSecretOnly(t *testing.T) {
	opts := &AddOptions{SecretStdin: true, AdminSecretStdin: true}
	if _, err := opts.readAdminSecret(); errs.KindOf(err) != errs.KindUsage {
		t.Fatalf("err %v", err)
	}
	ios, _, _, _ := iostreams.Test()
	opts = &AddOptions{IO: ios, AdminPrompt: true}
	if _, err := opts.readAdminSecret(); errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "--admin-secret-stdin") {
		t.Fatalf("prompt without a terminal: %v", err)
	}
}
