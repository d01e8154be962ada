package oracle

import (
	"testing"

	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func FuzzErrorBodies(f *testing.F) {
	providertest.FuzzErrorBodies(f, bare(f).Fail,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"Resource not found","status":"404"}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"bad\nvalue","status":"400","urn:ietf:params:scim:api:oracle:idcs:extension:messages:Error":{"messageId":"error.common.common.invalidInput"}}`)
}
