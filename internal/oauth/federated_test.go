package oauth

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/httpx"
)

func TestFederatedAssertionAsksForAFreshTokenOnEveryRequest(t *testing.T) {
	n := 0
	a := FederatedAssertion{Next: func(context.Context, time.Time) (string, error) {
		n++
		return fmt.Sprintf("jwt-%d", n), nil
	}}
	for i := 1; i <= 2; i++ {
		req := httpx.Request{Form: url.Values{}}
		if err := a.Apply(&req, "app", "https://idp/token", time.Now()); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("jwt-%d", i)
		if req.Form.Get("client_assertion") != want || req.Form.Get("client_id") != "app" ||
			req.Form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
			t.Fatalf("request %d form %v", i, req.Form)
		}
		if len(req.Secrets) != 1 || req.Secrets[0] != want {
			t.Fatalf("the assertion is not marked secret: %v", req.Secrets)
		}
	}
}
