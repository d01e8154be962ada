package providertest

import (
	"net/http"
	"testing"
	"unicode"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// FuzzErrorBodies fuzzes an adapter's handling of error answers: whatever
// the status and body, the result is a classified error whose text has no
// control characters (a hostile body must not move the cursor or forge
// lines) and never quotes the seeded secret. seeds are vendor error bodies.
func FuzzErrorBodies(f *testing.F, fail func(op string, resp *httpx.Response) error, seeds ...string) {
	for _, s := range seeds {
		for _, status := range []int{400, 401, 403, 404, 409, 429, 500, 502, 503} {
			f.Add(status, s)
		}
	}
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 400 || status > 599 {
			return
		}
		resp := &httpx.Response{Status: status, Body: []byte(body), Header: http.Header{"Content-Type": {"application/json"}}, URL: "https://idp.example/admin"}
		err := fail("doing the thing", resp)
		if err == nil {
			t.Fatalf("status %d: no error", status)
		}
		if errs.KindOf(err) == errs.KindUnknown {
			t.Fatalf("status %d: unclassified error %v", status, err)
		}
		for _, r := range err.Error() {
			if unicode.IsControl(r) {
				t.Fatalf("control character in %q", err.Error())
			}
		}
	})
}
