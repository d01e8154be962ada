// Package providertest holds what the admin adapters' tests share: the Env
// an adapter gets against a vendor's contract fake, a record of the waits
// its HTTP client was asked to make, and the assertions every adapter's
// tests make (an error's kind and text, no secret in results or errors).
package providertest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// Sleeps records the waits an httpx client was asked to make, so that a
// test sees a Retry-After honoured without waiting for it.
type Sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

// Sleep is an httpx Sleep that records d and returns at once.
func (s *Sleeps) Sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

// All returns the waits recorded, oldest first.
func (s *Sleeps) All() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// NoSleep is an httpx Sleep that returns at once.
func NoSleep(context.Context, time.Duration) error { return nil }

// HTTP is an httpx client built from opts; the test fails if it cannot be.
func HTTP(t testing.TB, opts httpx.Options) *httpx.Client {
	t.Helper()
	hc, err := httpx.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// Env is what an adapter under test gets to reach a fake at baseURL:
// profile "test", an httpx client built from opts, and auth, whose own
// token requests (client credentials) go through that client too.
func Env(t testing.TB, baseURL string, auth *provider.AdminAuth, opts httpx.Options) *provider.Env {
	t.Helper()
	hc := HTTP(t, opts)
	if auth.Scheme == provider.AuthClientCredentials {
		auth.HTTP = hc
	}
	return &provider.Env{Profile: "test", BaseURL: baseURL, HTTP: hc, Auth: auth}
}

// Adapter builds the adapter under test from env with its New; the test
// fails if it cannot be built or is not a P.
func Adapter[P provider.Provider](t testing.TB, build func(*provider.Env) (provider.Provider, error), env *provider.Env) P {
	t.Helper()
	p, err := build(env)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := p.(P)
	if !ok {
		t.Fatalf("New built a %T", p)
	}
	return a
}

// Watch stops a fake when the test ends and then fails the test if the
// fake saw contract violations, unless the test took them itself. Stopping
// first waits for requests in flight, so none of their violations is
// missed.
func Watch(t testing.TB, stop func(), violations func() []string) {
	t.Cleanup(func() {
		stop()
		if v := violations(); len(v) > 0 {
			t.Errorf("the fake saw contract violations:\n%s", strings.Join(v, "\n"))
		}
	})
}

// WantKind fails the test unless err is of kind and, when substr is not
// empty, mentions substr.
func WantKind(t testing.TB, err error, kind errs.Kind, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want kind %v", kind)
	}
	if got := errs.KindOf(err); got != kind {
		t.Fatalf("kind %v, want %v: %v", got, kind, err)
	}
	if substr != "" && !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q does not mention %q", err, substr)
	}
}

// NoSecrets fails the test when any of secrets appears in values: a string
// as it is, anything else as its JSON. A check without secrets would prove
// nothing, so it fails too.
func NoSecrets(t testing.TB, secrets []string, values ...any) {
	t.Helper()
	if len(secrets) == 0 {
		t.Fatal("no secrets to look for; the check would prove nothing")
	}
	for _, v := range values {
		text, ok := v.(string)
		if !ok {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			text = string(b)
		}
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("%q leaked into:\n%s", s, text)
			}
		}
	}
}

// NoPrivateKeys fails the test when any of the private key material a
// fake handed out, or a private member of an RSA JWK (RFC 7518 §6.3.2),
// appears in values (see NoSecrets): admin APIs that return private keys
// must never have them passed on.
func NoPrivateKeys(t testing.TB, material []string, values ...any) {
	t.Helper()
	if len(material) == 0 {
		t.Fatal("the fake handed out no private key material; the check would prove nothing")
	}
	members := []string{`"d":`, `"p":`, `"q":`, `"dp":`, `"dq":`, `"qi":`}
	NoSecrets(t, slices.Concat(material, members), values...)
}

// Do sends a request to a fake, with the Authorization header and a JSON
// body when given, and returns the status and body of the answer.
func Do(t testing.TB, method, url, authorization, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// Get fetches url, a published JWKS for instance, and returns the body;
// the test fails unless the answer is 200.
func Get(t testing.TB, url string) string {
	t.Helper()
	status, body := Do(t, http.MethodGet, url, "", "")
	if status != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", url, status, body)
	}
	return body
}
