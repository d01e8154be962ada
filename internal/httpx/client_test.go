package httpx

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"encoding/pem"

	"github.com/idpctl/idpctl/internal/errs"
)

func newTestClient(t *testing.T, opts Options) *Client {
	t.Helper()
	if opts.Sleep == nil {
		opts.Sleep = func(context.Context, time.Duration) error { return nil }
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestARequestThatOutlivesTheTimeoutFailsAsNetwork(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	c := newTestClient(t, Options{Timeout: 100 * time.Millisecond, MaxRetries: -1})
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL})
	if !errs.Is(err, errs.KindNetwork) || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("err = %v", err)
	}
}

func TestABodyTrickledSlowerThanTheTimeoutIsCutOff(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		for i := 0; i < 50; i++ {
			if _, err := w.Write([]byte(" ")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(50 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer srv.Close()
	c := newTestClient(t, Options{Timeout: 300 * time.Millisecond, MaxRetries: -1})
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL})
	if !errs.Is(err, errs.KindNetwork) {
		t.Fatalf("err = %v", err)
	}
}

func TestAnOversizedBodyIsRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("a"), 2<<20))
	}))
	defer srv.Close()
	c := newTestClient(t, Options{MaxBody: 1 << 20})
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL})
	if !errs.Is(err, errs.KindNetwork) || !strings.Contains(err.Error(), "larger than the 1 MiB limit") {
		t.Fatalf("err = %v", err)
	}
}

func TestPlainHTTPIsRefusedExceptOnLoopback(t *testing.T) {
	c := newTestClient(t, Options{})
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: "http://idp.example.com/token"})
	if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), "use https") {
		t.Fatalf("err = %v", err)
	}
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
		u, _ := url.Parse("http://" + host + "/")
		if err := checkScheme(u); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
}

func TestRedirectsAreNotFollowedUnlessAllowed(t *testing.T) {
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(`{}`))
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := newTestClient(t, Options{})
	resp, err := c.Do(context.Background(), Request{Method: "POST", URL: srv.URL, Form: url.Values{"client_secret": {"s"}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusTemporaryRedirect || hits.Load() != 0 {
		t.Fatalf("status %d, other server hit %d times", resp.Status, hits.Load())
	}
	resp, err = c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, FollowRedirects: true})
	if err != nil || resp.Status != 200 || hits.Load() != 1 {
		t.Fatalf("following: status %v err %v hits %d", resp, err, hits.Load())
	}
}

func TestIdempotentRequestsHonourRetryAfterAndOthersAreSentOnce(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= 2 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`ok`))
	}))
	defer srv.Close()
	var waits []time.Duration
	c := newTestClient(t, Options{Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Idempotent: true})
	if err != nil || resp.Status != 200 {
		t.Fatalf("resp %v err %v", resp, err)
	}
	if len(waits) != 2 || waits[0] != 3*time.Second {
		t.Fatalf("waits = %v, want two of 3s", waits)
	}
	hits.Store(0)
	resp, err = c.Do(context.Background(), Request{Method: "POST", URL: srv.URL, Form: url.Values{"grant_type": {"refresh_token"}}})
	if err != nil || resp.Status != http.StatusTooManyRequests || hits.Load() != 1 {
		t.Fatalf("a token POST must be sent once: status %v hits %d err %v", resp.Status, hits.Load(), err)
	}
}

func TestRetryAfterUnderstandsDatesAndVendorResetHeaders(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"seconds", http.Header{"Retry-After": {"7"}}, 7 * time.Second},
		{"an HTTP date", http.Header{"Retry-After": {now.Add(9 * time.Second).Format(http.TimeFormat)}}, 9 * time.Second},
		{"a date in the past", http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{"Okta's reset epoch", http.Header{"X-Rate-Limit-Reset": {"1767323105"}}, 60*time.Second + 250*time.Millisecond},
		{"Auth0's reset epoch", http.Header{"X-Ratelimit-Reset": {"1767323050"}}, 5*time.Second + 250*time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := RetryAfter(tc.header, now)
			if !ok || got != tc.want {
				t.Fatalf("got %v %v, want %v", got, ok, tc.want)
			}
		})
	}
	if _, ok := RetryAfter(http.Header{}, now); ok {
		t.Fatal("no header must give no wait")
	}
}

func TestAWaitLongerThanAllowedReturnsTheAnswerInstead(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	slept := false
	c := newTestClient(t, Options{MaxWait: time.Minute, Sleep: func(context.Context, time.Duration) error { slept = true; return nil }})
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Idempotent: true})
	if err != nil || resp.Status != 503 || slept {
		t.Fatalf("resp %v err %v slept %v", resp, err, slept)
	}
}

func TestTheDebugTraceRedactsCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"at-SECRET-1","refresh_token":"rt-SECRET-2","id_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","token_type":"Bearer"}`))
	}))
	defer srv.Close()
	var trace bytes.Buffer
	c := newTestClient(t, Options{Debug: &trace})
	_, err := c.Do(context.Background(), Request{
		Method: "POST", URL: srv.URL + "/token",
		Header:    http.Header{"X-Api-Key": {"key-SECRET-3"}, "Authorization": {"SSWS ssws-SECRET-4"}},
		Form:      url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt-SECRET-5"}, "client_secret": {"cs-SECRET-6"}, "code_verifier": {"cv-SECRET-7"}},
		BasicUser: "app", BasicPassword: "bp-SECRET-8",
	})
	if err != nil {
		t.Fatal(err)
	}
	out := trace.String()
	if !strings.Contains(out, "-> POST") || !strings.Contains(out, "<- 200") {
		t.Fatalf("trace misses the exchange:\n%s", out)
	}
	if strings.Contains(out, "SECRET") || strings.Contains(out, "eyJ") {
		t.Fatalf("secret in trace:\n%s", out)
	}
	if !strings.Contains(out, "Authorization: SSWS [redacted]") {
		t.Fatalf("the auth scheme should stay visible:\n%s", out)
	}
}

func TestAnUnknownCAIsExplainedAndACAFileFixesIt(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	c := newTestClient(t, Options{MaxRetries: -1})
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL})
	if !errs.Is(err, errs.KindNetwork) || !strings.Contains(err.Error(), "--ca-file") {
		t.Fatalf("err = %v", err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	c = newTestClient(t, Options{CAFile: caFile})
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL})
	if err != nil || resp.Status != 200 {
		t.Fatalf("with the CA: %v %v", resp, err)
	}
}

func TestARefusedConnectionFailsAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	sleeps := 0
	c := newTestClient(t, Options{MaxRetries: 2, Sleep: func(context.Context, time.Duration) error { sleeps++; return nil }})
	_, err := c.Do(context.Background(), Request{Method: "GET", URL: addr, Idempotent: true})
	if !errs.Is(err, errs.KindNetwork) || !strings.Contains(err.Error(), "connection refused") || sleeps != 0 {
		t.Fatalf("err = %v, sleeps %d", err, sleeps)
	}
}

func TestADroppedConnectionIsRetriedOnlyWhenIdempotent(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // drop the connection without an answer
			}
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	c := newTestClient(t, Options{MaxRetries: 2})
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Idempotent: true})
	if err != nil || resp.Status != 200 || hits.Load() != 2 {
		t.Fatalf("resp %v err %v hits %d", resp, err, hits.Load())
	}
	hits.Store(0)
	_, err = c.Do(context.Background(), Request{Method: "POST", URL: srv.URL, Form: url.Values{"grant_type": {"refresh_token"}}})
	if !errs.Is(err, errs.KindNetwork) || hits.Load() != 1 {
		t.Fatalf("a token POST must not be repeated after a dropped connection: err %v hits %d", err, hits.Load())
	}
}

func TestDecodeJSONNamesHTMLAndTruncatedBodies(t *testing.T) {
	cases := []struct {
		name, body, ct, want string
	}{
		{"an HTML page", "<html><head><title>502 Bad Gateway</title></head></html>", "text/html", `HTML page instead of JSON ("502 Bad Gateway")`},
		{"truncated JSON", `{"access_token":"abc`, "application/json", "malformed JSON"},
		{"an empty body", "", "application/json", "empty body"},
		{"a wrong type", `{"n":"x"}`, "application/json", `field "N" has the wrong type`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var v struct{ N int }
			err := DecodeJSON(&Response{Status: 502, Body: []byte(tc.body), Header: http.Header{"Content-Type": {tc.ct}}, URL: "https://idp.example/token"}, &v)
			if !errs.Is(err, errs.KindNetwork) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v", err)
			}
			if strings.Contains(err.Error(), "abc") {
				t.Fatal("the body must not be quoted")
			}
		})
	}
}

func TestAWriteMayRepeatAfterA429ButNotAfterA503(t *testing.T) {
	var hits atomic.Int32
	status := http.StatusTooManyRequests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(status)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c := newTestClient(t, Options{})
	resp, err := c.Do(context.Background(), Request{Method: "POST", URL: srv.URL, RetryRateLimited: true})
	if err != nil || resp.Status != http.StatusNoContent || hits.Load() != 2 {
		t.Fatalf("after a 429: status %v hits %d err %v", resp, hits.Load(), err)
	}
	hits.Store(0)
	status = http.StatusServiceUnavailable
	resp, err = c.Do(context.Background(), Request{Method: "POST", URL: srv.URL, RetryRateLimited: true})
	if err != nil || resp.Status != http.StatusServiceUnavailable || hits.Load() != 1 {
		t.Fatalf("after a 503 a write must not repeat: status %v hits %d err %v", resp.Status, hits.Load(), err)
	}
}

func FuzzDecodeJSONNeverPanics(f *testing.F) {
	f.Add("<\xff<title>", "text/html")
	f.Add("<html><TITLE>502 Bad Gateway</TITLE>", "text/html")
	f.Add(`{"a":1}`, "application/json")
	f.Fuzz(func(t *testing.T, body, ct string) {
		var v any
		_ = DecodeJSON(&Response{Status: 502, Body: []byte(body), Header: http.Header{"Content-Type": {ct}}, URL: "https://idp/x"}, &v)
	})
}

func TestABadGatewayIgnoresTheRateLimitWindowReset(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Okta sends its window reset on every answer, errors included.
		w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Now().Add(60*time.Second).Unix(), 10))
		w.Header().Set("X-Rate-Limit-Remaining", "599")
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	var waits []time.Duration
	c := newTestClient(t, Options{Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Idempotent: true})
	if err != nil || resp.Status != 200 {
		t.Fatalf("resp %v err %v", resp, err)
	}
	if len(waits) != 1 || waits[0] > 2*time.Second {
		t.Fatalf("waits = %v, want a short back-off, not the minute window", waits)
	}
}

func TestARateLimitResetIsReadAgainstTheServersClock(t *testing.T) {
	// The server's clock is ten minutes ahead of ours; it resets the window
	// 30 seconds after its own now. Waiting by our clock would ask for over
	// ten minutes (past MaxWait: no retry at all).
	server := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", server.Format(http.TimeFormat))
		if hits.Add(1) == 1 {
			w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(server.Add(30*time.Second).Unix(), 10))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`ok`))
	}))
	defer srv.Close()
	var waits []time.Duration
	c := newTestClient(t, Options{
		Now:   func() time.Time { return server.Add(-10 * time.Minute) },
		Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
	})
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Idempotent: true})
	if err != nil || resp.Status != 200 {
		t.Fatalf("resp %v err %v", resp, err)
	}
	if len(waits) != 1 || waits[0] != 30*time.Second+250*time.Millisecond {
		t.Fatalf("waits = %v, want [30.25s] from the reset minus the server's Date", waits)
	}
}

func TestATransientVendorAnswerIsRetriedOnlyOnIdempotentRequests(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"conflict"}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	transient := func(r *Response) bool { return r.Status == 400 && strings.Contains(string(r.Body), "conflict") }
	var waits []time.Duration
	c := newTestClient(t, Options{Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }})
	resp, err := c.Do(context.Background(), Request{Method: "DELETE", URL: srv.URL, Idempotent: true, Transient: transient})
	if err != nil || resp.Status != http.StatusNoContent || hits.Load() != 2 || len(waits) != 1 {
		t.Fatalf("idempotent: resp %v err %v hits %d waits %v", resp, err, hits.Load(), waits)
	}
	hits.Store(0)
	resp, err = c.Do(context.Background(), Request{Method: "POST", URL: srv.URL, RetryRateLimited: true, Transient: transient})
	if err != nil || resp.Status != http.StatusBadRequest || hits.Load() != 1 {
		t.Fatalf("a write must be sent once: resp %v err %v hits %d", resp, err, hits.Load())
	}
	hits.Store(0)
	resp, err = c.Do(context.Background(), Request{Method: "DELETE", URL: srv.URL, Idempotent: true})
	if err != nil || resp.Status != http.StatusBadRequest || hits.Load() != 1 {
		t.Fatalf("without Transient a 400 is final: resp %v err %v hits %d", resp, err, hits.Load())
	}
}

func TestRetriesStopAtTheDeadlineAndSayWhyTheyWait(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "4")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	clock := time.Unix(1_700_000_000, 0)
	var notes bytes.Buffer
	c := newTestClient(t, Options{
		Now:      func() time.Time { return clock },
		Sleep:    func(_ context.Context, d time.Duration) error { clock = clock.Add(d); return nil },
		Deadline: clock.Add(10 * time.Second),
		Notify:   &notes,
	})
	resp, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Idempotent: true})
	if err != nil || resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("resp %v err %v, want the last 503", resp, err)
	}
	// Attempts at 0s, 4s and 8s; one at 12s would be past the deadline.
	if n := hits.Load(); n != 3 {
		t.Errorf("%d attempts, want 3 within a 10s deadline of 4s waits", n)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	want := "IdP " + host + " answered 503; retrying in 4s (2/5)\nIdP " + host + " answered 503; retrying in 4s (3/5)\n"
	if notes.String() != want {
		t.Errorf("notices:\n%s\nwant:\n%s", notes.String(), want)
	}

	// Without a deadline every retry is made.
	hits.Store(0)
	c = newTestClient(t, Options{Now: func() time.Time { return clock }})
	if _, err := c.Do(context.Background(), Request{Method: "GET", URL: srv.URL, Idempotent: true}); err != nil {
		t.Fatal(err)
	}
	if n := hits.Load(); n != 5 {
		t.Errorf("%d attempts without a deadline, want 5", n)
	}
}
