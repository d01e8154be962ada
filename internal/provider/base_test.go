package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

// baseFor builds the base against srv with an injected clock and sleep.
func baseFor(t *testing.T, srv *httptest.Server, opts provider.ClientOptions) (*provider.Client, *providertest.Sleeps, *observed) {
	t.Helper()
	sleeps := &providertest.Sleeps{}
	obs := &observed{}
	env := providertest.Env(t, srv.URL, &provider.AdminAuth{Scheme: provider.AuthBearer, Secret: "s3cret"}, httpx.Options{Sleep: providertest.NoSleep})
	env.Now = func() time.Time { return time.Unix(1_700_000_000, 0) }
	env.Sleep = sleeps.Sleep
	env.Observe = obs.add
	c, err := provider.NewClient(env, "acme", srv.URL+"/api/", opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, sleeps, obs
}

type observed struct {
	mu sync.Mutex
	h  []http.Header
}

func (o *observed) add(_ context.Context, h http.Header) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.h = append(o.h, h)
}

func (o *observed) all() []http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.h)
}

// scripted answers the i-th request with answers[i] (the last repeats).
func scripted(answers ...func(w http.ResponseWriter)) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		answers[min(i, len(answers)-1)](w)
	}))
	return srv, &n
}

func status(code int, headers ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, `{"error":"e","error_description":"said the vendor"}`)
	}
}

func TestAnIdempotentCallWaitsAsRetryAfterSaysThenRetries(t *testing.T) {
	srv, n := scripted(status(429, "Retry-After", "7"), status(200))
	defer srv.Close()
	c, sleeps, _ := baseFor(t, srv, provider.ClientOptions{})
	resp, err := c.Do(context.Background(), provider.Req{Method: http.MethodGet, Path: "/users"})
	if err != nil || resp.Status != 200 {
		t.Fatalf("status %v, err %v", resp, err)
	}
	if n.Load() != 2 || !slices.Equal(sleeps.All(), []time.Duration{7 * time.Second}) {
		t.Fatalf("%d requests, waits %v", n.Load(), sleeps.All())
	}
}

func TestAVendorResetHeaderSetsTheWaitAndReachesObserve(t *testing.T) {
	// The IETF RateLimit fields count the reset in seconds from now.
	srv, _ := scripted(status(429, "RateLimit-Limit", "100, 100;w=60", "RateLimit-Remaining", "0", "RateLimit-Reset", "12"), status(200))
	defer srv.Close()
	c, sleeps, obs := baseFor(t, srv, provider.ClientOptions{RateLimit: provider.RateLimitNames{Limit: "RateLimit-Limit", Remaining: "RateLimit-Remaining", Reset: "RateLimit-Reset", ResetIsDelta: true}})
	if _, err := c.Do(context.Background(), provider.Req{Method: http.MethodGet, Path: "/users"}); err != nil {
		t.Fatal(err)
	}
	// 12 s from the injected now, plus httpx's rounding margin.
	if w := sleeps.All(); len(w) != 1 || w[0] != 12*time.Second+250*time.Millisecond {
		t.Fatalf("waits %v", w)
	}
	h := obs.all()
	if len(h) != 2 {
		t.Fatalf("Observe saw %d answers", len(h))
	}
	rl := httpx.ReadRateLimit(h[0])
	if !rl.Known || rl.Remaining != 0 || rl.Limit != 100 || rl.Reset.Unix() != 1_700_000_012 {
		t.Fatalf("observed rate limit %+v from %v", rl, h[0])
	}
}

func TestAResetEpochCanBeMeasuredAgainstTheServersDate(t *testing.T) {
	// The local clock (1_700_000_000) is an hour behind the server's.
	server := time.Unix(1_700_003_600, 0)
	reset := strconv.FormatInt(server.Add(20*time.Second).Unix(), 10)
	for _, tc := range []struct {
		serverClock bool
		want        []time.Duration
	}{
		{true, []time.Duration{20*time.Second + 250*time.Millisecond}},
		// Measured locally the reset is an hour away, longer than MaxWait:
		// the 429 is handed back without a wait.
		{false, nil},
	} {
		srv, _ := scripted(status(429, "Date", server.UTC().Format(http.TimeFormat), "X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", reset), status(200))
		c, sleeps, _ := baseFor(t, srv, provider.ClientOptions{ServerClock: tc.serverClock, MaxWait: time.Minute})
		_, err := c.Do(context.Background(), provider.Req{Method: http.MethodGet, Path: "/x"})
		srv.Close()
		if w := sleeps.All(); err != nil || !slices.Equal(w, tc.want) {
			t.Fatalf("server clock %v: waits %v, want %v (err %v)", tc.serverClock, w, tc.want, err)
		}
	}
}

func TestRetriesAreBounded(t *testing.T) {
	srv, n := scripted(status(503))
	defer srv.Close()
	c, sleeps, _ := baseFor(t, srv, provider.ClientOptions{MaxAttempts: 3})
	resp, err := c.Do(context.Background(), provider.Req{Method: http.MethodDelete, Path: "/x"})
	if err != nil || resp.Status != 503 || n.Load() != 3 || len(sleeps.All()) != 2 {
		t.Fatalf("status %v err %v after %d requests and waits %v", resp, err, n.Load(), sleeps.All())
	}
}

func TestAWaitLongerThanAllowedIsHandedBack(t *testing.T) {
	srv, n := scripted(status(429, "Retry-After", "3600"), status(200))
	defer srv.Close()
	c, sleeps, _ := baseFor(t, srv, provider.ClientOptions{})
	resp, err := c.Do(context.Background(), provider.Req{Method: http.MethodGet, Path: "/x"})
	if err != nil || resp.Status != 429 || n.Load() != 1 || len(sleeps.All()) != 0 {
		t.Fatalf("status %v err %v, %d requests, waits %v", resp, err, n.Load(), sleeps.All())
	}
}

func TestAWriteIsNeverRetriedBlindly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		answer func(http.ResponseWriter)
	}{
		{"POST after 429", http.MethodPost, status(429, "Retry-After", "1")},
		{"POST after 503", http.MethodPost, status(503, "Retry-After", "1")},
		{"PUT after 502", http.MethodPut, status(502)},
		{"PATCH after 429", http.MethodPatch, status(429)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, n := scripted(tc.answer, status(200))
			defer srv.Close()
			c, sleeps, _ := baseFor(t, srv, provider.ClientOptions{})
			resp, err := c.Do(context.Background(), provider.Req{Method: tc.method, Path: "/x", JSON: map[string]string{"a": "b"}})
			if err != nil || resp.Status == 200 || n.Load() != 1 || len(sleeps.All()) != 0 {
				t.Fatalf("status %v err %v after %d requests", resp, err, n.Load())
			}
		})
	}
}

func TestAWriteTheVendorSaysWasNotProcessedMayBeRepeatedAfterA429Only(t *testing.T) {
	srv, n := scripted(status(429, "Retry-After", "2"), status(201))
	defer srv.Close()
	c, sleeps, _ := baseFor(t, srv, provider.ClientOptions{})
	resp, err := c.Do(context.Background(), provider.Req{Method: http.MethodPost, Path: "/x", RetryRateLimited: true})
	if err != nil || resp.Status != 201 || n.Load() != 2 || !slices.Equal(sleeps.All(), []time.Duration{2 * time.Second}) {
		t.Fatalf("status %v err %v, %d requests, waits %v", resp, err, n.Load(), sleeps.All())
	}
	srv2, n2 := scripted(status(503), status(201))
	defer srv2.Close()
	c2, _, _ := baseFor(t, srv2, provider.ClientOptions{})
	if resp, _ := c2.Do(context.Background(), provider.Req{Method: http.MethodPost, Path: "/x", RetryRateLimited: true}); resp.Status != 503 || n2.Load() != 1 {
		t.Fatalf("a 503 write was repeated: %d requests", n2.Load())
	}
}

func TestFailUsesTheVendorsDecoderAndKeepsStatusAndCode(t *testing.T) {
	srv, _ := scripted(status(403))
	defer srv.Close()
	c, _, _ := baseFor(t, srv, provider.ClientOptions{Decode: func(resp *httpx.Response) provider.VendorError {
		return provider.VendorError{Code: "E0000006", Message: "You do not have permission"}
	}})
	_, err := c.Call(context.Background(), "revoking", provider.Req{Method: http.MethodDelete, Path: "/u"}, nil)
	var ae *provider.APIError
	if !errsAs(err, &ae) || ae.Status != 403 || ae.Code != "E0000006" || !errs.Is(err, errs.KindRefused) {
		t.Fatalf("error %v (%T)", err, err)
	}
	if !strings.Contains(err.Error(), "acme: revoking") || !strings.Contains(err.Error(), "E0000006 You do not have permission") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("message %q", err)
	}
	if provider.StatusOf(err) != 403 {
		t.Fatal("StatusOf lost the status")
	}
}

// pager serves /api/items pages; next builds page i's Link header.
func pager(t *testing.T, pages int, next func(base string, i int) string) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			t.Errorf("page without the credential: %s", r.URL)
		}
		i := 0
		fmt.Sscan(r.URL.Query().Get("page"), &i)
		if i+1 < pages {
			w.Header().Set("Link", next(srv.URL, i+1))
		}
		fmt.Fprintf(w, `{"page":%d}`, i)
	}))
	return srv, &n
}

func collect(c *provider.Client) ([]string, error) {
	var got []string
	err := c.Pages(context.Background(), "listing", "/items", nil, func(resp *httpx.Response) error {
		got = append(got, string(resp.Body))
		return nil
	})
	return got, err
}

func TestPagesFollowsNextLinksRelativeOrAbsolute(t *testing.T) {
	for name, next := range map[string]func(string, int) string{
		"absolute": func(base string, i int) string { return fmt.Sprintf(`<%s/api/items?page=%d>; rel="next"`, base, i) },
		"relative": func(_ string, i int) string {
			return fmt.Sprintf(`<items?page=%d>; rel="next", </api/items?page=0>; rel="first"`, i)
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv, n := pager(t, 3, next)
			defer srv.Close()
			c, _, _ := baseFor(t, srv, provider.ClientOptions{})
			got, err := collect(c)
			if err != nil || len(got) != 3 || n.Load() != 3 || got[2] != `{"page":2}` {
				t.Fatalf("pages %v err %v", got, err)
			}
		})
	}
}

func TestPagesStopsAtThePageCap(t *testing.T) {
	srv, n := pager(t, 1000, func(base string, i int) string { return fmt.Sprintf(`<%s/api/items?page=%d>; rel="next"`, base, i) })
	defer srv.Close()
	c, _, _ := baseFor(t, srv, provider.ClientOptions{MaxPages: 5})
	_, err := collect(c)
	if err == nil || !strings.Contains(err.Error(), "more than 5 pages") || !errs.Is(err, errs.KindNetwork) || n.Load() != 5 {
		t.Fatalf("err %v after %d pages", err, n.Load())
	}
}

func TestPagesRefusesALinkBackToAPageAlreadyRead(t *testing.T) {
	srv, n := pager(t, 3, func(base string, i int) string { return fmt.Sprintf(`<%s/api/items>; rel="next"`, base) })
	defer srv.Close()
	c, _, _ := baseFor(t, srv, provider.ClientOptions{})
	if _, err := collect(c); err == nil || !strings.Contains(err.Error(), "already read") || n.Load() != 1 {
		t.Fatalf("err %v after %d pages", err, n.Load())
	}
}

func TestPagesRefusesANextLinkToAnotherOrigin(t *testing.T) {
	elsewhere, hits := scripted(status(200))
	defer elsewhere.Close()
	srv, _ := pager(t, 2, func(string, int) string { return fmt.Sprintf(`<%s/api/items?page=1>; rel="next"`, elsewhere.URL) })
	defer srv.Close()
	c, _, _ := baseFor(t, srv, provider.ClientOptions{})
	_, err := collect(c)
	if err == nil || !strings.Contains(err.Error(), "not sending the admin credential there") || hits.Load() != 0 {
		t.Fatalf("err %v; the other origin got %d requests", err, hits.Load())
	}
}

func TestPagesCanRebaseANextLinkOntoTheConfiguredBase(t *testing.T) {
	srv, n := pager(t, 3, func(_ string, i int) string {
		return fmt.Sprintf(`<https://internal.example:8443/api/items?page=%d>; rel="next"`, i)
	})
	defer srv.Close()
	c, _, _ := baseFor(t, srv, provider.ClientOptions{RebaseNext: true})
	got, err := collect(c)
	if err != nil || len(got) != 3 || n.Load() != 3 {
		t.Fatalf("pages %v err %v", got, err)
	}
}

func TestOriginsCompareWithDefaultPorts(t *testing.T) {
	a, b := mustURL(t, "https://Acme.example/x"), mustURL(t, "https://acme.example:443/y")
	if provider.Origin(a) != provider.Origin(b) {
		t.Fatalf("%s != %s", provider.Origin(a), provider.Origin(b))
	}
	if provider.Origin(mustURL(t, "http://acme.example")) == provider.Origin(b) {
		t.Fatal("http and https are one origin")
	}
}

func TestFollowNextReadsACursorLinkAndMayEndTheListing(t *testing.T) {
	srv, n := pager(t, 3, func(_ string, i int) string {
		return fmt.Sprintf(`<https://internal.example/elsewhere?page=%d>; rel="next"`, i)
	})
	defer srv.Close()
	// Only the link's query counts, taken onto the current page's URL.
	cursor := func(cur *url.URL, target string) (*url.URL, bool) {
		t, err := url.Parse(target)
		if err != nil || t.Query().Get("page") == "2" {
			return nil, false
		}
		next := *cur
		next.RawQuery = t.RawQuery
		return &next, true
	}
	c, _, _ := baseFor(t, srv, provider.ClientOptions{FollowNext: cursor})
	got, err := collect(c)
	if err != nil || len(got) != 2 || n.Load() != 2 {
		t.Fatalf("pages %v err %v after %d requests", got, err, n.Load())
	}
	// A hook leading to another origin is refused like a link would be.
	away := func(*url.URL, string) (*url.URL, bool) {
		u, _ := url.Parse("https://internal.example/api/items")
		return u, true
	}
	c2, _, _ := baseFor(t, srv, provider.ClientOptions{FollowNext: away})
	if _, err := collect(c2); err == nil || !strings.Contains(err.Error(), "not sending the admin credential there") {
		t.Fatalf("err %v", err)
	}
}

func TestAVendorsTransientAnswerIsRetriedOnIdempotentCallsOnly(t *testing.T) {
	conflict := func(r *httpx.Response) bool { return r.Status == http.StatusBadRequest }
	srv, n := scripted(status(400), status(204))
	defer srv.Close()
	c, sleeps, _ := baseFor(t, srv, provider.ClientOptions{Transient: conflict})
	resp, err := c.Do(context.Background(), provider.Req{Method: http.MethodDelete, Path: "/x"})
	if err != nil || resp.Status != 204 || n.Load() != 2 || len(sleeps.All()) != 1 {
		t.Fatalf("status %v err %v, %d requests, waits %v", resp, err, n.Load(), sleeps.All())
	}
	srv2, n2 := scripted(status(400), status(201))
	defer srv2.Close()
	c2, _, _ := baseFor(t, srv2, provider.ClientOptions{Transient: conflict})
	if resp, _ := c2.Do(context.Background(), provider.Req{Method: http.MethodPost, Path: "/x", RetryRateLimited: true}); resp.Status != 400 || n2.Load() != 1 {
		t.Fatalf("a write was repeated on a transient answer: %d requests", n2.Load())
	}
	srv3, n3 := scripted(status(400), status(204))
	defer srv3.Close()
	c3, _, _ := baseFor(t, srv3, provider.ClientOptions{})
	if resp, _ := c3.Do(context.Background(), provider.Req{Method: http.MethodDelete, Path: "/x"}); resp.Status != 400 || n3.Load() != 1 {
		t.Fatalf("a 400 was retried without the option: %d requests", n3.Load())
	}
}
