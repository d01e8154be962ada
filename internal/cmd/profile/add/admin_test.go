package add

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider/registry"
)

func TestTheAdminCredentialGoesFromStdinToTheStoreAndNeverToTheFile(t *testing.T) {
	f, cfgPath, in := newFactory(t)
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

func TestProfileAddRefusesSecretLookingAndUnknownAdminSettingsWritingNothing(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--provider", "okta", "--admin", "api_token=00abcSECRETvalue"}, []string{"--admin api_token=...", "--admin-secret-stdin"}},
		{[]string{"--provider", "keycloak", "--admin", "password=00abcSECRETvalue"}, []string{"credentials do not go on the command line"}},
		{[]string{"--provider", "auth0", "--admin", "client_secret=00abcSECRETvalue"}, []string{"IDPCTL_ADMIN_SECRET_FILE"}},
		{[]string{"--provider", "cisco-ucm", "--admin", "Secret=00abcSECRETvalue"}, []string{"--admin secret=..."}},
		{[]string{"--provider", "okta", "--admin", "ssws_token=00abcSECRETvalue"}, []string{"credentials do not go"}},
		{[]string{"--provider", "keycloak", "--admin", "relm=corp"}, []string{"unknown admin setting for provider keycloak", "realm", "admin_realm", "client_id"}},
		{[]string{"--provider", "okta", "--admin", "realm=corp"}, []string{"valid settings are", "authorization_server"}},
		{[]string{"--admin", "realm=corp"}, []string{"provider generic has no admin API settings", "keycloak"}},
		{[]string{"--provider", "azure", "--admin", "url=https://x"}, []string{`unknown provider "azure"`, strings.Join(registry.Names(), ", ")}},
		{[]string{"--provider", "keycloack"}, []string{`unknown provider "keycloack"`}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, cfgPath, in := newFactory(t)
			store := credstore.NewMemory()
			f.Store = func() (credstore.Store, error) { return store, nil }
			in.WriteString("stdin-admin-secret\n")
			cmd := NewCmdAdd(f, nil)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			f.Flags.Issuer = "https://idp.example"
			cmd.SetArgs(append([]string{"corp", "--admin-secret-stdin"}, tc.args...))
			err := cmd.Execute()
			if cli.ExitCode(err) != cli.ExitUsage {
				t.Fatalf("err = %v (exit %d), want exit 2", err, cli.ExitCode(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if strings.Contains(err.Error(), "SECRETvalue") {
				t.Errorf("the error repeats the secret: %v", err)
			}
			if _, statErr := os.Stat(cfgPath); !os.IsNotExist(statErr) {
				t.Errorf("the configuration file was written")
			}
			if _, err := store.Get(context.Background(), "corp", credstore.KindAdminCredential); err == nil {
				t.Errorf("the admin credential was stored for a refused profile")
			}
		})
	}
}

func TestProfileAddAcceptsEveryDocumentedSettingOfItsProvider(t *testing.T) {
	f, _, _ := newFactory(t)
	cmd := NewCmdAdd(f, nil)
	f.Flags.Issuer = "https://ucm.example"
	cmd.SetArgs([]string{"ucm", "--provider", "cisco-ucm", "--admin", "url=https://ucm.example:8443", "--admin", "user=axl", "--admin", "ssh_host_key_sha256=SHA256:abc", "--admin", "ssh_known_hosts=/k", "--admin", "token_url=https://t"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
}

// What cannot be an issuer, or a proxy password in any spelling, is
// refused before anything is written, and never quoted with the password.
func TestProfileAddRefusesBadIssuersAndProxyPasswordsWritingNothing(t *testing.T) {
	for _, tc := range []struct {
		issuer, proxy string
		want          string
	}{
		{issuer: "not-a-url", want: "not an http(s) URL"},
		{issuer: "http://idp.example.com", want: "must use https"},
		{issuer: "https://u:SECRETvalue@idp.example.com", want: "must not carry a user or password"},
		{issuer: "https://idp.example.com/?client_secret=SECRETvalue", want: "must not have a query"},
		{issuer: "https://idp.example.com", proxy: "bob:SECRETvalue@proxy.corp:3128", want: "carries a password"},
		{issuer: "https://idp.example.com", proxy: "http://bob:SECRETvalue@proxy.corp:3128 ", want: "carries a password"},
	} {
		t.Run(tc.issuer+" "+tc.proxy, func(t *testing.T) {
			f, cfgPath, _ := newFactory(t)
			cmd := NewCmdAdd(f, nil)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			f.Flags.Issuer, f.Flags.Proxy = tc.issuer, tc.proxy
			cmd.SetArgs([]string{"corp"})
			err := cmd.Execute()
			if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (exit %d), want exit 2 saying %q", err, cli.ExitCode(err), tc.want)
			}
			if strings.Contains(err.Error(), "SECRETvalue") {
				t.Errorf("the error repeats the secret: %v", err)
			}
			if _, statErr := os.Stat(cfgPath); !os.IsNotExist(statErr) {
				t.Errorf("the configuration file was written")
			}
		})
	}
}

// newFactory is a factory whose configuration file is a fresh temporary
// path, with test streams; in is what the command reads as stdin.
func newFactory(t *testing.T) (f *cli.Factory, cfgPath string, in *bytes.Buffer) {
	t.Helper()
	cfgPath = filepath.Join(t.TempDir(), "config.yaml")
	ios, in, _, _ := iostreams.Test()
	f = cli.New(ios, func(k string) string {
		if k == "IDPCTL_CONFIG" {
			return cfgPath
		}
		return ""
	}, "test")
	return f, cfgPath, in
}
