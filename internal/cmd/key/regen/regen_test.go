package regen

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	gojose "github.com/go-jose/go-jose/v4"

	"github.com/idpctl/idpctl/internal/audit"
	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/provider"
)

// jwks serves a key set that lists the new kid from the showAfter+1-th
// fetch on (showAfter < 0: never).
type jwks struct {
	mu        sync.Mutex
	fetches   int
	showAfter int
	newKID    string
	srv       *httptest.Server
}

func publicJWK(t *testing.T, kid string) json.RawMessage {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gojose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newJWKS(t *testing.T, newKID string, showAfter int) *jwks {
	j := &jwks{showAfter: showAfter, newKID: newKID}
	oldKey, newKey := publicJWK(t, "old-1"), publicJWK(t, newKID)
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.mu.Lock()
		j.fetches++
		n := j.fetches
		j.mu.Unlock()
		// A careless IdP also publishes a symmetric key's secret: it must
		// never reach the output.
		keys := []json.RawMessage{oldKey, json.RawMessage(`{"kty":"oct","kid":"enc-1","k":"TOPSECRETSYMMETRIC"}`)}
		if j.showAfter >= 0 && n > j.showAfter {
			keys = append(keys, newKey)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	}))
	t.Cleanup(j.srv.Close)
	return j
}

type rotator struct {
	jwksURL     string
	rotated     int
	destructive bool
	retired     int
}

// retiringRotator can also retire the keys a rotation replaced.
type retiringRotator struct{ *rotator }

func (r retiringRotator) RetireKeys(_ context.Context, _ *provider.RotatePlan, rot *provider.RotateResult) (*provider.RotateResult, error) {
	r.retired++
	res := *rot
	res.Retired = []string{"old-0"}
	return &res, nil
}

func (r *rotator) Name() string                                     { return "fake" }
func (r *rotator) ListKeys(context.Context) ([]provider.Key, error) { return nil, nil }
func (r *rotator) PlanRotate(_ context.Context, use provider.KeyUse, o provider.RotateOptions) (*provider.RotatePlan, error) {
	return &provider.RotatePlan{Use: use, Options: o, Destructive: r.destructive,
		Calls:        []provider.Call{{Method: "POST", Path: "/admin/keys/rotate", Purpose: "create and activate a new key"}},
		Consequences: []string{fmt.Sprintf("tokens signed with the old key stop verifying after %s", o.RetireOldAfter)}}, nil
}
func (r *rotator) Rotate(context.Context, *provider.RotatePlan) (*provider.RotateResult, error) {
	r.rotated++
	return &provider.RotateResult{NewKID: "new-2", JWKSURL: r.jwksURL, Notes: []string{"the old key stays published"}}, nil
}

type memAudit struct{ entries []audit.Entry }

func (m *memAudit) Check() error               { return nil }
func (m *memAudit) Append(e audit.Entry) error { m.entries = append(m.entries, e); return nil }

func setup(t *testing.T, r provider.KeyRotator) (*RegenOptions, *iostreams.IOStreams, *memAudit, *[]time.Duration) {
	ios, _, _, _ := iostreams.Test()
	a := &memAudit{}
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var slept []time.Duration
	return &RegenOptions{
		IO: ios,
		Provider: func(context.Context) (provider.Provider, *config.Resolved, error) {
			return r, &config.Resolved{Name: "prod"}, nil
		},
		Audit: func() (Auditor, error) { return a, nil },
		HTTP:  func(*config.Resolved) (*httpx.Client, error) { return httpx.New(httpx.Options{}) },
		Now:   func() time.Time { return now },
		Sleep: func(_ context.Context, d time.Duration) error {
			slept = append(slept, d)
			now = now.Add(d)
			return nil
		},
		PollInterval: 2 * time.Second,
		Use:          provider.KeySigning, JWKSTimeout: "2m", Output: "text",
	}, ios, a, &slept
}

func TestTheNewKeyIsReportedOnceTheJWKSListsIt(t *testing.T) {
	j := newJWKS(t, "new-2", 2)
	r := &rotator{jwksURL: j.srv.URL}
	opts, ios, a, slept := setup(t, r)
	opts.Yes = true
	if err := regenRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	out := ios.Out.(fmt.Stringer).String()
	if !strings.Contains(out, "new-2 is published") || !strings.Contains(out, "after 3 fetches") {
		t.Fatalf("stdout %q", out)
	}
	if j.fetches != 3 || len(*slept) != 2 {
		t.Fatalf("%d fetches, slept %v", j.fetches, *slept)
	}
	if len(a.entries) != 1 || a.entries[0].Action != audit.ActionRotateKey || a.entries[0].Result != "rotated" || !strings.Contains(a.entries[0].Detail, "new kid new-2") {
		t.Fatalf("audit %+v", a.entries)
	}
	all := out + ios.ErrOut.(fmt.Stringer).String()
	if strings.Contains(all, "TOPSECRETSYMMETRIC") {
		t.Fatal("key material reached the output")
	}
}

func TestAKeyThatNeverAppearsExits5(t *testing.T) {
	j := newJWKS(t, "new-2", -1)
	r := &rotator{jwksURL: j.srv.URL}
	opts, _, _, _ := setup(t, r)
	opts.Yes, opts.JWKSTimeout, opts.Output = true, "10s", "json"
	err := regenRun(context.Background(), opts)
	if cli.ExitCode(err) != cli.ExitNetwork || !strings.Contains(err.Error(), "new-2 did not appear in the JWKS within 10s") {
		t.Fatalf("err = %v (exit %d)", err, cli.ExitCode(err))
	}
	if j.fetches != 6 { // at 0, 2, 4, 6, 8 and 10 seconds
		t.Fatalf("%d fetches", j.fetches)
	}
}

func TestADryRunShowsTheConsequencesAndRotatesNothing(t *testing.T) {
	base := &rotator{}
	r := retiringRotator{base}
	opts, ios, a, _ := setup(t, r)
	opts.DryRun, opts.RetireOldAfter = true, "24h"
	if err := regenRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	out := ios.Out.(fmt.Stringer).String()
	if !strings.Contains(out, "POST /admin/keys/rotate") || !strings.Contains(out, "stop verifying after 24h0m0s") {
		t.Fatalf("plan %q", out)
	}
	if base.rotated != 0 || base.retired != 0 || len(a.entries) != 0 {
		t.Fatal("a dry run rotated")
	}
}

func TestRetirementWaitsForPublicationAndTheGivenTime(t *testing.T) {
	j := newJWKS(t, "new-2", 1)
	base := &rotator{jwksURL: j.srv.URL}
	opts, ios, a, slept := setup(t, retiringRotator{base})
	opts.Yes, opts.RetireOldAfter = true, "1d"
	if err := regenRun(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if base.retired != 1 {
		t.Fatalf("retired %d times", base.retired)
	}
	if n := len(*slept); n == 0 || (*slept)[n-1] != 24*time.Hour {
		t.Fatalf("slept %v, want the last wait to be the retirement delay", *slept)
	}
	if out := ios.Out.(fmt.Stringer).String(); !strings.Contains(out, "Retired: old-0") {
		t.Fatalf("stdout %q", out)
	}
	if len(a.entries) != 2 || a.entries[1].Result != "retired" {
		t.Fatalf("audit %+v", a.entries)
	}
}

func TestAnInterruptedWaitKeepsThePreviousKeys(t *testing.T) {
	j := newJWKS(t, "new-2", 0)
	base := &rotator{jwksURL: j.srv.URL}
	opts, _, _, _ := setup(t, retiringRotator{base})
	opts.Yes, opts.RetireOldAfter = true, "2h"
	opts.Sleep = func(_ context.Context, d time.Duration) error {
		if d == 2*time.Hour {
			return context.Canceled
		}
		return nil
	}
	err := regenRun(context.Background(), opts)
	if cli.ExitCode(err) != cli.ExitInterrupted || !strings.Contains(err.Error(), "previous keys were kept") || base.retired != 0 || base.rotated != 1 {
		t.Fatalf("err %v, rotated %d, retired %d", err, base.rotated, base.retired)
	}
}

func TestRetiringWhereTheIdPCannotIsRefusedBeforeRotating(t *testing.T) {
	r := &rotator{}
	opts, _, _, _ := setup(t, r)
	opts.Yes, opts.RetireOldAfter = true, "1h"
	err := regenRun(context.Background(), opts)
	if cli.ExitCode(err) != cli.ExitUnsupported || r.rotated != 0 {
		t.Fatalf("err %v, rotated %d", err, r.rotated)
	}
}

func TestWithoutATerminalAndWithoutYesNothingIsRotated(t *testing.T) {
	r := &rotator{}
	opts, _, _, _ := setup(t, r)
	if err := regenRun(context.Background(), opts); cli.ExitCode(err) != cli.ExitUsage || r.rotated != 0 {
		t.Fatalf("err %v, rotated %d", err, r.rotated)
	}
}

func TestTheArgumentsNameTheKey(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := cli.New(ios, func(string) string { return "" }, "test")
	for _, tc := range []struct {
		args []string
		want provider.KeyUse
		ok   bool
	}{
		{[]string{"authz", "signing", "--yes", "--retire-old-after", "24h", "--restart-services", "--jwks-timeout", "5m"}, provider.KeySigning, true},
		{[]string{"authz", "encryption"}, provider.KeyEncryption, true},
		{[]string{"authz", "tls"}, "", false},
		{[]string{"tomcat", "signing"}, "", false},
		{[]string{"signing"}, "", false},
	} {
		var got *RegenOptions
		cmd := NewCmdRegen(f, func(_ context.Context, o *RegenOptions) error { got = o; return nil })
		cmd.SetArgs(tc.args)
		cmd.SilenceErrors, cmd.SilenceUsage = true, true
		err := cmd.Execute()
		if (err == nil) != tc.ok || (tc.ok && got.Use != tc.want) {
			t.Errorf("%v: err %v, options %+v", tc.args, err, got)
		}
		if tc.ok && tc.want == provider.KeySigning && (!got.Yes || got.RetireOldAfter != "24h" || !got.RestartServices || got.JWKSTimeout != "5m") {
			t.Errorf("flags %+v", got)
		}
	}
}

func TestARotationThatInvalidatesIssuedTokensNeedsYesEvenAtATerminal(t *testing.T) {
	j := newJWKS(t, "new-2", 0)
	r := &rotator{jwksURL: j.srv.URL, destructive: true}
	opts, ios, _, _ := setup(t, r)
	ios.SetTTY(true, true, true)
	ios.In.(interface{ WriteString(string) (int, error) }).WriteString("y\n")
	err := regenRun(context.Background(), opts)
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "--yes") || r.rotated != 0 {
		t.Fatalf("err %v, rotated %d", err, r.rotated)
	}
	opts.Yes = true
	if err := regenRun(context.Background(), opts); err != nil || r.rotated != 1 {
		t.Fatalf("with --yes: %v, rotated %d", err, r.rotated)
	}
}

func TestARetireOldAfterOfZeroIsRefusedNotIgnored(t *testing.T) {
	base := &rotator{}
	opts, _, _, _ := setup(t, retiringRotator{base})
	opts.Yes, opts.RetireOldAfter = true, "0"
	err := regenRun(context.Background(), opts)
	if errs.KindOf(err) != errs.KindUsage || !strings.Contains(err.Error(), "positive duration") || base.rotated != 0 {
		t.Fatalf("err = %v, rotated %d", err, base.rotated)
	}
}
