package auth0

import (
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func FuzzErrorBodies(f *testing.F) {
	client, _ := httpx.New(httpx.Options{})
	p, err := New(&provider.Env{HTTP: client, Settings: map[string]string{"tenant": "acme.eu.auth0.com"}})
	if err != nil {
		f.Fatal(err)
	}
	providertest.FuzzErrorBodies(f, p.(*Provider).fail, `{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`, `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached"}`)
}
