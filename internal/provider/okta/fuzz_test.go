package okta

import (
	"testing"

	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func FuzzErrorBodies(f *testing.F) {
	providertest.FuzzErrorBodies(f, fail, `{"errorCode":"E0000007","errorSummary":"Not found: Resource not found: x (User)","errorLink":"E0000007","errorId":"oaeX","errorCauses":[]}`, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorCauses":[{"errorSummary":"\u001b]0;x\u0007"}]}`)
}
