package keycloak

import (
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func FuzzErrorBodies(f *testing.F) {
	client, _ := httpx.New(httpx.Options{})
	p, err := New(&provider.Env{HTTP: client, BaseURL: "http://127.0.0.1:8080/realms/demo"})
	if err != nil {
		f.Fatal(err)
	}
	providertest.FuzzErrorBodies(f, p.(*Provider).Fail, `{"error":"unknown_error"}`, `{"errorMessage":"Consent nor offline token not found"}`, `{"error":"invalid_token","error_description":"Token is not active"}`)
}
