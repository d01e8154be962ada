package auth0

import (
	"testing"

	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func FuzzErrorBodies(f *testing.F) {
	providertest.FuzzErrorBodies(f, fail, `{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`, `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached"}`)
}
