package doctor

import (
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/provider"
)

type bare struct{ name string }

func (b bare) Name() string { return b.name }

type listed struct{ bare }

func (listed) Permissions() []string { return []string{"User.RevokeSessions.All", "User.Read.All"} }

func TestDoctorNamesTheAdaptersOwnPermissionsBeforeTheTable(t *testing.T) {
	if got := needsOf("entra", listed{bare{"entra"}}); got != "User.RevokeSessions.All, User.Read.All" {
		t.Errorf("adapter list: %q", got)
	}
	if got := needsOf("keycloak", bare{"keycloak"}); got != adminNeeds["keycloak"] {
		t.Errorf("table: %q", got)
	}
	if got := needsOf("newidp", bare{"newidp"}); !strings.Contains(got, "docs/providers.md") {
		t.Errorf("fallback: %q", got)
	}
	var _ provider.PermissionLister = listed{}
}
