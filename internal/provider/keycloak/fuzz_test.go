package keycloak

import (
	"testing"

	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func FuzzErrorBodies(f *testing.F) {
	providertest.FuzzErrorBodies(f, fail, `{"error":"unknown_error"}`, `{"errorMessage":"Consent nor offline token not found"}`, `{"error":"invalid_token","error_description":"Token is not active"}`)
}
