package registry

import (
	"strings"
	"testing"

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
