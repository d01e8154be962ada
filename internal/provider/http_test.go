package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

func TestStatusErrorKeepsTheStatusKindAndSaysWhatCameBack(t *testing.T) {
	cases := []struct {
		name, body, ct, vendor string
		status                 int
		kind                   errs.Kind
		want                   string
	}{
		{"a plain-text 429", "Too Many Requests", "text/plain", "", 429, errs.KindNetwork, "rate limited by api.example (HTTP 429): Too Many Requests"},
		{"an HTML 502", "<html><title>502</title></html>", "text/html", "", 502, errs.KindNetwork, "HTML page"},
		{"a vendor 403", `{"errorSummary":"no"}`, "application/json", "You do not have permission", 403, errs.KindRefused, "lacks the permission (HTTP 403): You do not have permission"},
		{"a 401 with a token in the text", "bad token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "text/plain", "", 401, errs.KindRefused, "[redacted]"},
		{"a 400", `{}`, "application/json", "", 400, errs.KindRefused, "HTTP 400"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := StatusError("revoking", &httpx.Response{Status: tc.status, Body: []byte(tc.body), Header: http.Header{"Content-Type": {tc.ct}}, URL: "https://api.example/x"}, tc.vendor)
			if errs.KindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v (kind %v)", err, errs.KindOf(err))
			}
			if strings.Contains(err.Error(), "eyJ") || strings.Contains(err.Error(), "malformed JSON") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestA429KeepsItsRateLimitHeadersForTheScheduler(t *testing.T) {
	h := http.Header{"Retry-After": {"7"}, "X-Rate-Limit-Reset": {"1767323105"}}
	err := StatusError("revoking", &httpx.Response{Status: 429, Header: h, Body: []byte(`{}`), URL: "https://api.example/x"}, "")
	var rl interface{ RateLimitHeader() http.Header }
	if !errors.As(fmt.Errorf("user x: %w", err), &rl) || rl.RateLimitHeader().Get("Retry-After") != "7" {
		t.Fatalf("err = %#v", err)
	}
	if errs.KindOf(err) != errs.KindNetwork {
		t.Fatalf("kind %v", errs.KindOf(err))
	}
}

func TestSendShowsEveryAnswersHeadersToTheObserver(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	hc, err := httpx.New(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	env := &Env{HTTP: hc, Observe: func(_ context.Context, h http.Header) { seen = append(seen, h.Get("X-Rate-Limit-Remaining")) }}
	if _, err := env.Send(context.Background(), httpx.Request{Method: http.MethodDelete, URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "0" {
		t.Fatalf("observed %v", seen)
	}
}

func TestTransientConflictsAreMarkedRetryable(t *testing.T) {
	hydra := `{"error":{"code":400,"status":"Bad Request","message":"Unable to serialize access due to a concurrent update in another session"}}`
	for _, tc := range []struct {
		name, body, vendor string
		status             int
		retryable          bool
	}{
		{"Hydra's serialization failure (ory/x sqlcon.ErrConcurrentUpdate)", hydra, "", 400, true},
		{"the same, as the adapter extracted it", `{}`, "Unable to serialize access due to a concurrent update in another session", 400, true},
		{"a 409", `{"error":"conflict"}`, "", 409, true},
		{"another 400", `{"error":"invalid subject"}`, "", 400, false},
		{"a 500", `{}`, "", 500, false},
		{"a 403", `{}`, "", 403, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := StatusError("revoking", &httpx.Response{Status: tc.status, Body: []byte(tc.body), Header: http.Header{"Content-Type": {"application/json"}}, URL: "https://api.example/x"}, tc.vendor)
			if errs.IsRetryable(fmt.Errorf("user x: %w", err)) != tc.retryable {
				t.Fatalf("err = %v: retryable %v, want %v", err, !tc.retryable, tc.retryable)
			}
		})
	}
}

func TestAConnectionRefusedIsRetryableForCallersWithAPolicy(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	hc, err := httpx.New(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = hc.Do(context.Background(), httpx.Request{Method: http.MethodDelete, URL: url + "/x", Idempotent: true})
	if errs.KindOf(err) != errs.KindNetwork || !errs.IsRetryable(err) {
		t.Fatalf("err = %v (kind %v, retryable %v)", err, errs.KindOf(err), errs.IsRetryable(err))
	}
}
