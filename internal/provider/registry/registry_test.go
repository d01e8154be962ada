package registry

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/httpx"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

func TestGenericIsRegisteredAndIsTheDefault(t *testing.T) {
	if !contains(Names(), "generic") {
		t.Fatalf("Names() = %v", Names())
	}
	for _, name := range []string{"", "generic", "Generic"} {
		p, err := New(name, &provider.Env{})
		if err != nil || p.Name() != "generic" {
			t.Fatalf("New(%q) = %v, %v", name, p, err)
		}
	}
}

func TestAnUnknownProviderIsAUsageErrorListingTheNames(t *testing.T) {
	_, err := New("nope", &provider.Env{})
	if errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "generic") {
		t.Fatalf("err = %v", err)
	}
}

type bare struct{}

func (bare) Name() string { return "bare" }

func TestAMissingCapabilityIsUnsupported(t *testing.T) {
	if _, err := Revoker(bare{}); errs.KindOf(err) != errs.KindUnsupported || !strings.Contains(err.Error(), "bare: revoking") {
		t.Errorf("Revoker: %v", err)
	}
	if _, err := ExpiryManager(bare{}); errs.KindOf(err) != errs.KindUnsupported {
		t.Errorf("ExpiryManager: %v", err)
	}
	if _, err := KeyRotator(bare{}); errs.KindOf(err) != errs.KindUnsupported {
		t.Errorf("KeyRotator: %v", err)
	}
	p, _ := New("generic", &provider.Env{})
	if _, err := Revoker(p); err != nil {
		t.Errorf("generic implements the interface (its methods answer unsupported): %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Every adapter must accept a profile that leaves admin.auth unset: the
// factory infers only what is unambiguous and leaves the rest to the
// vendor's default.
func TestEveryAdapterAcceptsAnUnsetAdminScheme(t *testing.T) {
	cases := map[string]*provider.Env{
		"hydra":     {BaseURL: "http://127.0.0.1:4445", Issuer: "http://127.0.0.1:4444/"},
		"keycloak":  {Issuer: "https://kc.example/realms/corp"},
		"okta":      {Issuer: "https://acme.okta.com/oauth2/default"},
		"auth0":     {Settings: map[string]string{"tenant": "acme.eu.auth0.com"}},
		"oracle":    {BaseURL: "https://idcs-123.identity.oraclecloud.com"},
		"cisco-ucm": {BaseURL: "https://ucm.example:8443"},
		"sandbox":   {Issuer: "http://127.0.0.1:9400"},
		"webex":     {},
		"entra":     {Settings: map[string]string{"tenant": "contoso.onmicrosoft.com"}},
		"google":    {Settings: map[string]string{"subject": "admin@example.com"}},
		"cognito":   {Settings: map[string]string{"user_pool_id": "us-east-1_AbCdEf123"}},
	}
	for name, env := range cases {
		t.Run(name, func(t *testing.T) {
			if env.Settings == nil {
				env.Settings = map[string]string{}
			}
			env.Auth = &provider.AdminAuth{}
			hc, err := httpx.New(httpx.Options{})
			if err != nil {
				t.Fatal(err)
			}
			env.HTTP = hc
			if _, err := New(name, env); err != nil {
				t.Fatalf("New with an unset admin scheme: %v", err)
			}
		})
	}
	if len(cases) != len(Names())-1 {
		t.Fatalf("a provider is missing from this test: have %v", Names())
	}
}

// TestEveryAdminSettingAnAdapterReadsIsRegistered keeps the lists that
// profile add checks --admin keys against in step with the adapters: a
// setting read with env.Setting("key", ...) that is not listed would be
// refused when a profile is written.
func TestEveryAdminSettingAnAdapterReadsIsRegistered(t *testing.T) {
	read := regexp.MustCompile(`Setting\("([a-z0-9_]+)"`)
	dirs := map[string]string{"hydra": "hydra", "keycloak": "keycloak", "okta": "okta", "auth0": "auth0", "oracle": "oracle", "cisco-ucm": "ciscoucm",
		"sandbox": "sandbox", "entra": "entra", "webex": "webex", "google": "google", "cognito": "cognito"}
	if len(dirs) != len(Names())-1 {
		t.Fatalf("a provider is missing from this test: have %v", Names())
	}
	for name, dir := range dirs {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no sources (%v)", dir, err)
		}
		known := map[string]bool{}
		for _, k := range AdminSettings(name) {
			known[k] = true
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range read.FindAllStringSubmatch(string(src), -1) {
				if !known[m[1]] {
					t.Errorf("%s reads admin setting %q, which the registry does not list for %s", f, m[1], name)
				}
			}
		}
	}
	if AdminSettings("generic") != nil || !Known("") || Known("azure") {
		t.Error("generic has admin settings, or Known is wrong")
	}
}

// What an adapter cannot do is answered with its vendor's sentence.
func TestUnimplementedCapabilitiesNameTheVendorsAlternative(t *testing.T) {
	hc, err := httpx.New(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		settings map[string]string
		expiry   string
		keys     string
	}{
		{"google", map[string]string{"subject": "admin@example.com"}, "Google Cloud session control", "listing and rotating keys is not supported; Google manages and rotates its signing keys"},
		{"cognito", map[string]string{"user_pool_id": "us-east-1_AbCdEf123"}, "", "rotating keys is not supported; Cognito does not rotate user pool signing keys"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(c.name, &provider.Env{Settings: c.settings, HTTP: hc, Auth: &provider.AdminAuth{}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ExpiryManager(p); c.expiry != "" && (errs.KindOf(err) != errs.KindUnsupported || !strings.Contains(err.Error(), c.expiry)) {
				t.Errorf("expiry: %v", err)
			}
			if _, err := KeyRotator(p); errs.KindOf(err) != errs.KindUnsupported || !strings.Contains(err.Error(), c.name+": "+c.keys) {
				t.Errorf("keys: %v", err)
			}
		})
	}
}
