package okta

import (
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"testing"

	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func FuzzErrorBodies(f *testing.F) {
	client, _ := httpx.New(httpx.Options{})
	p, err := New(&provider.Env{HTTP: client, BaseURL: "https://acme.okta.com"})
	if err != nil {
		f.Fatal(err)
	}
	providertest.FuzzErrorBodies(f, p.(*Provider).fail, `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: x (User)","errorLink":"E0000007","errorId":"oaeX","errorCauses":[]}`, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorCauses":[{"errorSummary":"\u001b]0;x\u0007"}]}`)
}
