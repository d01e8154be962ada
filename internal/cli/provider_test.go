package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider"
)

func adminFactory(t *testing.T, env map[string]string, admin map[string]string) (*Factory, *credstore.Memory) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	f := New(ios, func(k string) string { return env[k] }, "test")
	store := credstore.NewMemory()
	f.Store = func() (credstore.Store, error) { return store, nil }
	f.Profile = func() (*config.Resolved, error) {
		return &config.Resolved{Name: "corp", InFile: true, Profile: config.Profile{Issuer: "https://idp.example", Provider: "generic", Admin: admin}}, nil
	}
	return f, store
}

func TestTheAdminEnvironmentComesFromTheProfilesAdminSettings(t *testing.T) {
	f, store := adminFactory(t, nil, map[string]string{
		"url": "https://admin.example/", "Realm": "corp", "client_id": "offboarding", "token_url": "https://idp.example/token",
		"scope": "admin", "audience": "https://api", "client_auth": "client_secret_post",
	})
	store.Set(context.Background(), "corp", credstore.KindAdminCredential, []byte("stored-secret"))
	p, _ := f.Profile()
	env, err := f.ProviderEnv(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	a := env.Auth
	if a.Secret != "" {
		t.Fatal("the secret was read before any request needed it")
	}
	if _, err := a.SecretValue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if env.BaseURL != "https://admin.example" || env.Setting("realm", "") != "corp" || env.Issuer != "https://idp.example" || env.Profile != "corp" ||
		a.Scheme != provider.AuthClientCredentials || a.ClientID != "offboarding" || a.TokenURL != "https://idp.example/token" ||
		a.Scope != "admin" || a.Audience != "https://api" || a.ClientAuthMethod != "client_secret_post" || a.Secret != "stored-secret" ||
		env.HTTP == nil || a.HTTP != env.HTTP || env.Now == nil || env.Sleep == nil {
		t.Fatalf("env %+v, auth %+v", env, a)
	}
}

func TestTheAdminSecretPrefersTheEnvironmentThenItsFileThenTheStore(t *testing.T) {
	file := filepath.Join(t.TempDir(), "admin")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	cases := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"IDPCTL_ADMIN_SECRET": "from-env", "IDPCTL_ADMIN_SECRET_FILE": file}, "from-env"},
		{map[string]string{"IDPCTL_ADMIN_SECRET_FILE": file}, "from-file"},
		{nil, "from-store"},
	}
	for _, tc := range cases {
		f, store := adminFactory(t, tc.env, map[string]string{"auth": "ssws"})
		store.Set(context.Background(), "corp", credstore.KindAdminCredential, []byte("from-store"))
		_, p, err := f.Provider(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		env, _ := f.ProviderEnv(context.Background(), p)
		secret, err := env.Auth.SecretValue(context.Background())
		if err != nil || secret != tc.want || env.Auth.Secret != tc.want || env.Auth.Scheme != provider.AuthSSWS {
			t.Errorf("env %v: secret %q scheme %q, want %q", tc.env, env.Auth.Secret, env.Auth.Scheme, tc.want)
		}
	}
}

func TestNoSecretIsReadForAnAdminAPIWithoutAuthentication(t *testing.T) {
	f, _ := adminFactory(t, nil, map[string]string{"auth": "none"})
	f.Store = func() (credstore.Store, error) {
		t.Fatal("the credential store was opened for auth none")
		return nil, nil
	}
	p, _ := f.Profile()
	if _, err := f.ProviderEnv(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

func TestBadAdminSettingsAreUsageErrors(t *testing.T) {
	for _, admin := range []map[string]string{
		{"auth": "kerberos"},
		{"client_auth": "tls_client_auth"},
		{"password": "hunter2"},
	} {
		f, _ := adminFactory(t, nil, admin)
		p, _ := f.Profile()
		_, err := f.ProviderEnv(context.Background(), p)
		if errs.KindOf(err) != errs.KindUsage {
			t.Errorf("%v: %v", admin, err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error quotes the secret: %v", err)
		}
	}
}

func TestAProfileWithAnUnknownProviderIsAUsageError(t *testing.T) {
	f, _ := adminFactory(t, nil, nil)
	f.Profile = func() (*config.Resolved, error) {
		return &config.Resolved{Name: "x", Profile: config.Profile{Provider: "nosuch"}}, nil
	}
	if _, _, err := f.Provider(context.Background()); errs.KindOf(err) != errs.KindUsage {
		t.Fatalf("err %v", err)
	}
}

func TestConfirmation(t *testing.T) {
	ios, in, _, _ := iostreams.Test()
	if err := Confirm(ios, false, false, "go?"); errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "--yes") {
		t.Errorf("no terminal: %v", err)
	}
	if err := Confirm(ios, true, true, "go?"); err != nil {
		t.Errorf("--yes on a destructive plan: %v", err)
	}
	ios.SetTTY(true, true, true)
	in.WriteString("y\n")
	if err := Confirm(ios, false, true, "go?"); errs.KindOf(err) != errs.KindUsage {
		t.Errorf("a destructive plan answered y at a terminal: %v", err)
	}
	if err := Confirm(ios, false, false, "go?"); err != nil {
		t.Errorf("answered y: %v", err)
	}
	in.WriteString("\n")
	if err := Confirm(ios, false, false, "go?"); err != ErrNotConfirmed {
		t.Errorf("answered nothing: %v", err)
	}
}
