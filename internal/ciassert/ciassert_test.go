package ciassert

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

var now = time.Unix(1_900_000_000, 0)

func jwt(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

func TestCheckSortsTokensByWhatIsWrongWithThem(t *testing.T) {
	cases := []struct {
		name  string
		token string
		kind  errs.Kind
		want  string
	}{
		{"a live signed JWT passes", jwt(`{"alg":"RS256"}`, `{"exp":1900000060}`), errs.KindUnknown, ""},
		{"plain text is a usage error", "hello", errs.KindUsage, "does not hold a JWT"},
		{"an unsigned JWT is a usage error", jwt(`{"alg":"none"}`, `{"exp":1900000060}`), errs.KindUsage, "unsigned"},
		{"a JWT without exp is a usage error", jwt(`{"alg":"ES256"}`, `{"sub":"x"}`), errs.KindUsage, "exp"},
		{"a JWT with a string exp is a usage error", jwt(`{"alg":"ES256"}`, `{"exp":"soon"}`), errs.KindUsage, "exp"},
		{"a JWT expired a second ago is refused", jwt(`{"alg":"ES256"}`, `{"exp":1899999999}`), errs.KindRefused, "expired at 2030-03-17T17:46:39Z (1s ago)"},
		{"a JWT expiring right now is refused", jwt(`{"alg":"ES256"}`, `{"exp":1900000000}`), errs.KindRefused, "expired"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(c.token, "the test token", now)
			if c.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil || errs.KindOf(err) != c.kind || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Check = %v (kind %v), want kind %v with %q", err, errs.KindOf(err), c.kind, c.want)
			}
			if strings.Contains(err.Error(), c.token) {
				t.Fatalf("the error quotes the token: %v", err)
			}
		})
	}
}

func TestFileIsReadAgainForEveryToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	f := File{Path: path, What: "client assertion"}
	for _, v := range []string{"first", "second"} {
		if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := f.Token(context.Background())
		if err != nil || got != v {
			t.Fatalf("Token = %q, %v; want %q", got, err, v)
		}
	}
	if err := os.WriteFile(path, []byte(" \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Token(context.Background()); !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("an empty file: %v", err)
	}
}

func TestGitHubActionsAsksTheRuntimeWithTheBearerAndAudience(t *testing.T) {
	var gotAuth, gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth, gotQuery = r.Header.Get("Authorization"), r.URL.RawQuery
		_, _ = w.Write([]byte(`{"count":1,"value":"eyJ.the.token"}`))
	}))
	defer srv.Close()
	hc, err := httpx.New(httpx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{EnvGitHubRequestURL: srv.URL + "/x?api-version=2.0", EnvGitHubRequestToken: "runtime-bearer"}
	g := GitHubActions{HTTP: hc, Getenv: func(k string) string { return env[k] }, Audience: "api://AzureADTokenExchange", What: "client assertion"}
	tok, err := g.Token(context.Background())
	if err != nil || tok != "eyJ.the.token" {
		t.Fatalf("Token = %q, %v", tok, err)
	}
	if gotAuth != "Bearer runtime-bearer" || gotQuery != "api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange" {
		t.Fatalf("the runtime saw Authorization %q and query %q", gotAuth, gotQuery)
	}
}
