package get

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/tokens"
)

func TestFlagsFillTheOptions(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios, func(string) string { return "" }, "test")
	var got *GetOptions
	cmd := NewCmdGet(f, func(_ context.Context, o *GetOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--flow", "device", "--scope", "a,b", "--scope", "c", "--min-ttl", "5m", "-o", "json", "--resource", "https://api", "--no-cache", "--no-browser"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Grant.Flow != "device" || strings.Join(got.Scopes, " ") != "a b c" || got.MinTTL != 5*time.Minute || got.Output != "json" ||
		got.Grant.Options.Resources[0] != "https://api" || !got.NoCache || !got.Grant.NoBrowser {
		t.Fatalf("options %+v", got)
	}
}

// testFactory serves a profile and a memory store, and fails the test if
// anything tries to build an OAuth client: a cache hit must not.
func testFactory(t *testing.T, store *credstore.Memory) (*cli.Factory, *iostreams.IOStreams) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios, func(string) string { return "" }, "test")
	f.Profile = func() (*config.Resolved, error) {
		return &config.Resolved{Name: "p", ClientSecretFromEnv: "s", Profile: config.Profile{Issuer: "https://idp.example", ClientID: "c"}}, nil
	}
	f.Store = func() (credstore.Store, error) { return store, nil }
	f.OAuthClient = func(context.Context, *config.Resolved) (*oauth.Client, error) {
		t.Fatal("a cache hit must not build the OAuth client")
		return nil, nil
	}
	return f, ios
}

func seedToken(t *testing.T, store *credstore.Memory, expires time.Time) {
	t.Helper()
	key := tokens.RequestKey(oauth.TokenOptions{})
	at := credstore.AccessToken{AccessToken: "cached-token", TokenType: "Bearer", ExpiresAt: expires, Issuer: "https://idp.example", ClientID: "c", Request: key, Scope: "api"}
	if err := credstore.SaveJSON(context.Background(), store, "p", credstore.KindAccessToken, at); err != nil {
		t.Fatal(err)
	}
}

func TestACachedTokenIsPrintedAloneOnStdout(t *testing.T) {
	store := credstore.NewMemory()
	f, ios := testFactory(t, store)
	now := time.Now()
	seedToken(t, store, now.Add(time.Hour))
	err := getRun(context.Background(), &GetOptions{IO: ios, Factory: f, Now: func() time.Time { return now }, Getenv: f.Getenv, MinTTL: time.Minute, Output: OutputRaw})
	if err != nil {
		t.Fatal(err)
	}
	if out := ios.Out.(interface{ String() string }).String(); out != "cached-token\n" {
		t.Fatalf("stdout = %q", out)
	}
	if errOut := ios.ErrOut.(interface{ String() string }).String(); errOut != "" {
		t.Fatalf("stderr = %q, want nothing on a cache hit", errOut)
	}
}

func TestOutputFormats(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := &credstore.AccessToken{AccessToken: "tok'en", TokenType: "Bearer", ExpiresAt: now.Add(90 * time.Second), Scope: "a b"}
	cases := []struct {
		output string
		env    map[string]string
		check  func(t *testing.T, out string)
	}{
		{OutputHeader, nil, func(t *testing.T, out string) {
			if out != "Authorization: Bearer tok'en\n" {
				t.Fatalf("%q", out)
			}
		}},
		{OutputEnv, nil, func(t *testing.T, out string) {
			if !strings.Contains(out, `export IDPCTL_ACCESS_TOKEN='tok'\''en'`) || !strings.Contains(out, "IDPCTL_TOKEN_EXPIRES_AT=2026-01-01T00:01:30Z") {
				t.Fatalf("%q", out)
			}
		}},
		{OutputJSON, nil, func(t *testing.T, out string) {
			var doc map[string]any
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if doc["access_token"] != "tok'en" || doc["expires_in"] != float64(90) || doc["expires_at"] != "2026-01-01T00:01:30Z" || doc["source"] != "cache" {
				t.Fatalf("%v", doc)
			}
		}},
		{OutputExecCredential, map[string]string{"KUBERNETES_EXEC_INFO": `{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential"}`}, func(t *testing.T, out string) {
			var doc struct {
				APIVersion, Kind string
				Status           struct{ Token, ExpirationTimestamp string }
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.APIVersion != "client.authentication.k8s.io/v1beta1" || doc.Kind != "ExecCredential" || doc.Status.Token != "tok'en" || doc.Status.ExpirationTimestamp != "2026-01-01T00:01:30Z" {
				t.Fatalf("%+v", doc)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.output, func(t *testing.T) {
			ios, _, out, _ := iostreams.Test()
			if err := Write(ios, tc.output, at, "cache", now, func(k string) string { return tc.env[k] }); err != nil {
				t.Fatal(err)
			}
			tc.check(t, out.String())
		})
	}
}

func TestAnInteractiveFlowWithoutATerminalAsksForLoginInsteadOfHanging(t *testing.T) {
	store := credstore.NewMemory()
	f, ios := testFactory(t, store)
	f.Profile = func() (*config.Resolved, error) {
		return &config.Resolved{Name: "p", Profile: config.Profile{Issuer: "https://idp.example", ClientID: "c", ClientAuthMethod: "none"}}, nil
	}
	err := getRun(context.Background(), &GetOptions{IO: ios, Factory: f, Now: time.Now, Getenv: f.Getenv, MinTTL: time.Minute, Output: OutputRaw})
	if !errs.Is(err, errs.KindLoginRequired) || !strings.Contains(err.Error(), "idpctl login") {
		t.Fatalf("err = %v", err)
	}
}

func TestAnUnknownOutputIsAUsageError(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	err := getRun(context.Background(), &GetOptions{IO: ios, Output: "yaml"})
	if !errs.Is(err, errs.KindUsage) {
		t.Fatalf("err = %v", err)
	}
}
