package hydra

import (
	"testing"

	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func FuzzErrorBodies(f *testing.F) {
	providertest.FuzzErrorBodies(f, bare(f).fail, `{"error":"invalid_request","error_description":"The request is missing a required parameter"}`, `{"error":"x\u001b[2J","error_description":"\u0007"}`, `<html><title>502</title></html>`)
}
