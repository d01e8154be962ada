package providertest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// spy is a testing.TB that records failures instead of failing, so the
// assertions here can be shown to fail.
type spy struct {
	testing.TB
	mu       sync.Mutex
	failures []string
	cleanups []func()
}

func (s *spy) Helper() {}

func (s *spy) Errorf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, fmt.Sprintf(format, args...))
}

func (s *spy) Fatalf(format string, args ...any) { s.Errorf(format, args...); runtime.Goexit() }
func (s *spy) Fatal(args ...any)                 { s.Errorf("%s", fmt.Sprint(args...)); runtime.Goexit() }
func (s *spy) Cleanup(f func())                  { s.cleanups = append(s.cleanups, f) }

// run calls check with a spy, as a test body would run, and returns the
// failures it reported.
func run(check func(t testing.TB)) []string {
	s := &spy{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		check(s)
	}()
	wg.Wait()
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	return s.failures
}

func TestWantKindFailsOnAnotherKindAMissingTextOrNoError(t *testing.T) {
	err := errs.New(errs.KindRefused, "okta: HTTP 403 E0000006")
	tests := []struct {
		name   string
		err    error
		kind   errs.Kind
		substr string
		fails  bool
	}{
		{"kind and text", err, errs.KindRefused, "E0000006", false},
		{"kind alone", err, errs.KindRefused, "", false},
		{"another kind", err, errs.KindNetwork, "", true},
		{"a missing text", err, errs.KindRefused, "HTTP 401", true},
		{"no error", nil, errs.KindUnknown, "", true},
		{"an unclassified error", errors.New("x"), errs.KindRefused, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failures := run(func(t testing.TB) { WantKind(t, tt.err, tt.kind, tt.substr) })
			if (len(failures) > 0) != tt.fails {
				t.Fatalf("failures %q", failures)
			}
		})
	}
}

func TestNoSecretsFindsASecretInTextOrJSON(t *testing.T) {
	tests := []struct {
		name   string
		values []any
		fails  bool
	}{
		{"clean", []any{"nothing here", map[string]string{"a": "b"}}, false},
		{"in a string", []any{"the token s3cret leaked"}, true},
		{"in a struct's JSON", []any{struct{ Detail string }{"s3cret"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failures := run(func(t testing.TB) { NoSecrets(t, []string{"s3cret", ""}, tt.values...) })
			if (len(failures) > 0) != tt.fails {
				t.Fatalf("failures %q", failures)
			}
		})
	}
	if failures := run(func(t testing.TB) { NoSecrets(t, nil, "anything") }); len(failures) == 0 {
		t.Fatal("a check without secrets passed")
	}
}

func TestNoPrivateKeysFindsMaterialAndMemberNames(t *testing.T) {
	tests := []struct {
		name  string
		value any
		fails bool
	}{
		{"public members only", map[string]string{"n": "abc", "e": "AQAB"}, false},
		{"a private value", "the key was AbCdEf", true},
		{"a private member name", map[string]string{"qi": "other"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			failures := run(func(t testing.TB) { NoPrivateKeys(t, []string{"AbCdEf"}, tt.value) })
			if (len(failures) > 0) != tt.fails {
				t.Fatalf("failures %q", failures)
			}
		})
	}
	if failures := run(func(t testing.TB) { NoPrivateKeys(t, nil, "anything") }); len(failures) == 0 {
		t.Fatal("a check without key material passed")
	}
}

func TestWatchStopsTheFakeThenReportsItsViolations(t *testing.T) {
	var stopped bool
	failures := run(func(t testing.TB) {
		Watch(t, func() { stopped = true }, func() []string {
			if !stopped {
				return []string{"read before the fake stopped"}
			}
			return []string{"GET /x: unexpected query parameter"}
		})
	})
	if len(failures) != 1 || !strings.Contains(failures[0], "unexpected query parameter") {
		t.Fatalf("failures %q", failures)
	}
	if failures := run(func(t testing.TB) { Watch(t, func() {}, func() []string { return nil }) }); len(failures) != 0 {
		t.Fatalf("a clean fake failed the test: %q", failures)
	}
}

func TestSleepsRecordsWaitsWithoutWaiting(t *testing.T) {
	var s Sleeps
	start := time.Now()
	for _, d := range []time.Duration{time.Hour, time.Second} {
		if err := s.Sleep(context.Background(), d); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.All(); len(got) != 2 || got[0] != time.Hour || got[1] != time.Second || time.Since(start) > time.Minute {
		t.Fatalf("waits %v", got)
	}
}

func TestEnvRoutesClientCredentialsThroughTheSameClient(t *testing.T) {
	cc := &provider.AdminAuth{Scheme: provider.AuthClientCredentials}
	env := Env(t, "http://127.0.0.1:1", cc, httpx.Options{Sleep: NoSleep})
	if env.BaseURL != "http://127.0.0.1:1" || env.Profile != "test" || env.Auth != cc || cc.HTTP != env.HTTP || env.HTTP == nil {
		t.Fatalf("env %+v", env)
	}
	bearer := &provider.AdminAuth{Scheme: provider.AuthBearer}
	if Env(t, "http://127.0.0.1:1", bearer, httpx.Options{Sleep: NoSleep}); bearer.HTTP != nil {
		t.Fatal("a bearer credential was given a token client")
	}
}

func TestGetFailsOnAnythingButOK(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"keys":[]}`))
	}))
	defer srv.Close()
	if got := Get(t, srv.URL+"/jwks"); got != `{"keys":[]}` {
		t.Fatalf("body %q", got)
	}
	if failures := run(func(t testing.TB) { Get(t, srv.URL+"/missing") }); len(failures) != 1 {
		t.Fatalf("failures %q", failures)
	}
}
