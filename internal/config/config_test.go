package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFlagsBeatEnvironmentWhichBeatsTheFile(t *testing.T) {
	c := &Config{CurrentProfile: "work", Profiles: map[string]*Profile{
		"work": {Issuer: "https://file.example", ClientID: "file-client", Scopes: []string{"a"}},
	}}
	r, err := Resolve(c, envOf(map[string]string{"IDPCTL_CLIENT_ID": "env-client", "IDPCTL_SCOPES": "x, y"}), Overrides{Issuer: "https://flag.example"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "work" || r.Issuer != "https://flag.example" || r.ClientID != "env-client" || strings.Join(r.Scopes, " ") != "x y" {
		t.Fatalf("resolved %+v", r)
	}
	if r.Provider != "generic" {
		t.Fatalf("provider default = %q", r.Provider)
	}
}

func TestEnvironmentAloneIsEnoughWithoutAFile(t *testing.T) {
	r, err := Resolve(&Config{}, envOf(map[string]string{"IDPCTL_ISSUER": "https://idp.example", "IDPCTL_CLIENT_ID": "ci", "IDPCTL_CLIENT_SECRET": "s"}), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != DefaultProfile || r.InFile || r.ClientSecretFromEnv != "s" {
		t.Fatalf("resolved %+v", r)
	}
}

func TestTheEnvironmentSetsTheAdminURLAndAuthOverTheFile(t *testing.T) {
	file := map[string]string{"url": "https://file.example/admin", "realm": "corp"}
	c := &Config{CurrentProfile: "a", Profiles: map[string]*Profile{"a": {Issuer: "https://i", Admin: file}}}
	r, err := Resolve(c, envOf(map[string]string{"IDPCTL_ADMIN_URL": "http://127.0.0.1:9/admin", "IDPCTL_ADMIN_AUTH": "bearer"}), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Admin["url"] != "http://127.0.0.1:9/admin" || r.Admin["auth"] != "bearer" || r.Admin["realm"] != "corp" {
		t.Fatalf("admin %v", r.Admin)
	}
	if file["url"] != "https://file.example/admin" {
		t.Fatal("the configuration's own map was changed")
	}
	r, _ = Resolve(&Config{}, envOf(map[string]string{"IDPCTL_ISSUER": "https://i", "IDPCTL_ADMIN_URL": "https://a"}), Overrides{})
	if r.Admin["url"] != "https://a" {
		t.Fatalf("without a file: %v", r.Admin)
	}
}

func TestAnExplicitUnknownProfileIsAUsageError(t *testing.T) {
	_, err := Resolve(&Config{}, envOf(nil), Overrides{Profile: "nope"})
	if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), "idpctl profile add nope") {
		t.Fatalf("err = %v", err)
	}
}

func TestSaveThenLoadRoundTripsWithPrivatePermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.yaml")
	c := &Config{CurrentProfile: "a", Profiles: map[string]*Profile{"a": {Issuer: "https://i", Endpoints: Endpoints{Token: "https://i/t"}, Admin: map[string]string{"realm": "r"}}}}
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v err %v", st.Mode(), err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Profiles["a"].Endpoints.Token != "https://i/t" || got.Profiles["a"].Admin["realm"] != "r" || got.CurrentProfile != "a" {
		t.Fatalf("loaded %+v", got.Profiles["a"])
	}
}

func TestAMissingFileIsEmptyAndATypoIsRefused(t *testing.T) {
	c, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err != nil || len(c.Profiles) != 0 {
		t.Fatalf("c %v err %v", c, err)
	}
	if _, err := Parse([]byte(""), "x"); err != nil {
		t.Fatalf("empty: %v", err)
	}
	_, err = Parse([]byte("profiles:\n  a:\n    isuer: https://typo\n"), "cfg.yaml")
	if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), "isuer") {
		t.Fatalf("err = %v", err)
	}
	_, err = Parse([]byte("profiles:\n  'bad name':\n    issuer: x\n"), "cfg.yaml")
	if !errs.Is(err, errs.KindUsage) {
		t.Fatalf("err = %v", err)
	}
}

// FuzzParse: any file content gives a configuration or a usage error, and
// every accepted profile name is safe as a keychain account and file name.
func FuzzParse(f *testing.F) {
	f.Add("current_profile: a\nprofiles:\n  a:\n    issuer: https://i\n    scopes: [x, y]\n")
	f.Add("profiles:\n  a:\n    admin: {realm: r}\n    endpoints: {token: https://t}\n")
	f.Add("profiles: [1, 2]\n")
	f.Add("profiles:\n  ../etc:\n    issuer: x\n")
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := Parse([]byte(doc), "fuzz.yaml")
		if err != nil {
			if !errs.Is(err, errs.KindUsage) {
				t.Fatalf("unclassified: %v", err)
			}
			return
		}
		for name := range c.Profiles {
			if ValidateName(name) != nil {
				t.Fatalf("accepted profile name %q", name)
			}
		}
	})
}

func TestScopesWrittenTheOAuthWayAreSplitWhereverTheyComeFrom(t *testing.T) {
	file := &Config{CurrentProfile: "w", Profiles: map[string]*Profile{
		"w": {Issuer: "https://idp.example", Scopes: []string{"openid offline_access", "api:read,openid"}},
	}}
	for name, c := range map[string]struct {
		env map[string]string
		o   Overrides
	}{
		"the file":        {env: map[string]string{}},
		"the environment": {env: map[string]string{"IDPCTL_SCOPES": " openid  offline_access,api:read"}},
		"a flag":          {env: map[string]string{}, o: Overrides{Scopes: []string{"openid offline_access", "api:read"}}},
	} {
		r, err := Resolve(file, envOf(c.env), c.o)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(r.Scopes, "|"); got != "openid|offline_access|api:read" {
			t.Errorf("scopes from %s resolve to %q, want openid|offline_access|api:read", name, got)
		}
	}
}

// client_auth, scope and resource were client_auth_method, scopes and
// resources (IDPCTL_CLIENT_AUTH_METHOD, IDPCTL_SCOPES, IDPCTL_RESOURCES):
// files and environments written for the earlier names keep working, and
// saving writes the current names only.
func TestEarlierSettingNamesAreStillRead(t *testing.T) {
	old := []byte("profiles:\n  work:\n    issuer: https://idp.example.com\n    client_auth_method: private_key_jwt\n    scopes: [openid, api:read]\n    resources: [https://api.example.com]\n")
	c, err := Parse(old, "config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Profiles["work"]
	if p.ClientAuthMethod != "private_key_jwt" || strings.Join(p.Scopes, " ") != "openid api:read" || strings.Join(p.Resources, " ") != "https://api.example.com" {
		t.Fatalf("earlier keys not read: %+v", p)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := c.Save(path); err != nil {
		t.Fatal(err)
	}
	saved, _ := os.ReadFile(path)
	for _, want := range []string{"client_auth: private_key_jwt", "scope:", "resource:"} {
		if !strings.Contains(string(saved), want) {
			t.Errorf("saved file lacks %q:\n%s", want, saved)
		}
	}
	for _, gone := range []string{"client_auth_method", "scopes", "resources"} {
		if strings.Contains(string(saved), gone) {
			t.Errorf("saved file still says %q:\n%s", gone, saved)
		}
	}

	both := []byte("profiles:\n  work:\n    client_auth: none\n    client_auth_method: private_key_jwt\n")
	if _, err := Parse(both, "config.yaml"); err == nil || !strings.Contains(err.Error(), "client_auth_method") {
		t.Errorf("conflicting spellings: err %v, want one naming both", err)
	}

	env := map[string]string{"IDPCTL_ISSUER": "https://idp.example.com", "IDPCTL_CLIENT_AUTH_METHOD": "none", "IDPCTL_SCOPES": "a,b", "IDPCTL_RESOURCES": "https://r.example"}
	r, err := Resolve(&Config{Profiles: map[string]*Profile{}}, func(k string) string { return env[k] }, Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if r.ClientAuthMethod != "none" || strings.Join(r.Scopes, " ") != "a b" || strings.Join(r.Resources, " ") != "https://r.example" {
		t.Fatalf("earlier variables not read: %+v", r.Profile)
	}
	env["IDPCTL_CLIENT_AUTH"] = "private_key_jwt"
	if r, _ := Resolve(&Config{Profiles: map[string]*Profile{}}, func(k string) string { return env[k] }, Overrides{}); r.ClientAuthMethod != "private_key_jwt" {
		t.Errorf("IDPCTL_CLIENT_AUTH did not win over its earlier name: %q", r.ClientAuthMethod)
	}
}

// Scopes in the file are written as OAuth writes them, or as a list; a
// typo in a key is named in one sentence, not in Go's words.
func TestTheFileTakesScopesAsAStringOrAListAndNamesUnknownKeys(t *testing.T) {
	for _, doc := range []string{
		"profiles:\n  p:\n    scope: openid offline_access,api:read\n",
		"profiles:\n  p:\n    scope: [openid, \"offline_access api:read\"]\n",
		"profiles:\n  p:\n    scopes: openid offline_access api:read\n",
	} {
		c, err := Parse([]byte(doc), "config.yaml")
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if got := strings.Join(c.Profiles["p"].Scopes, " "); got != "openid offline_access api:read" {
			t.Errorf("%q: scopes %q", doc, got)
		}
	}
	_, err := Parse([]byte("profiles:\n  p:\n    clientid: x\n"), "config.yaml")
	if err == nil || !strings.Contains(err.Error(), `line 3: unknown key "clientid"`) || strings.Contains(err.Error(), "config.Profile") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Parse([]byte("profiles:\n  p:\n    scope: {a: b}\n"), "config.yaml"); err == nil || !strings.Contains(err.Error(), "scope must be a string or a list") {
		t.Fatalf("a mapping for scope: %v", err)
	}
}

// A line end that came with the variable's value is not part of the
// secret; the IdP would refuse the client for it with no hint why.
func TestAClientSecretFromTheEnvironmentLosesItsLineEnd(t *testing.T) {
	r, err := Resolve(&Config{}, envOf(map[string]string{"IDPCTL_ISSUER": "https://idp.example", "IDPCTL_CLIENT_ID": "ci", "IDPCTL_CLIENT_SECRET": "s3cret\r\n"}), Overrides{})
	if err != nil || r.ClientSecretFromEnv != "s3cret" {
		t.Fatalf("%q, %v", r.ClientSecretFromEnv, err)
	}
}

func TestAConfigurationThatCannotBeReadIsAUsageErrorSayingWhatToFix(t *testing.T) {
	_, err := Load(t.TempDir()) // a directory
	if errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "cannot be read") || !strings.Contains(err.Error(), "IDPCTL_CONFIG") {
		t.Fatalf("err = %v", err)
	}
}
