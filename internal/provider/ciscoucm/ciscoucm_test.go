package ciscoucm

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/ciscoucm/ucmfake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

type httpFixture struct {
	fake  *ucmfake.Server
	p     *Provider
	debug *bytes.Buffer
}

func newHTTPFixture(t *testing.T) *httpFixture {
	t.Helper()
	fake := ucmfake.New(t)
	providertest.Watch(t, fake.Close, fake.Errors)
	debug := &bytes.Buffer{}
	env := providertest.Env(t, fake.URL,
		&provider.AdminAuth{Scheme: provider.AuthBasic, User: fake.User, Secret: fake.Password},
		httpx.Options{Sleep: providertest.NoSleep, Debug: debug})
	env.Now = func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
	env.Sleep = providertest.NoSleep
	return &httpFixture{fake: fake, p: providertest.Adapter[*Provider](t, New, env), debug: debug}
}

func TestTheUCMAddressComesFromTheAdminURLOrTheHostSetting(t *testing.T) {
	tests := []struct {
		name     string
		base     string
		settings map[string]string
		want     string
		errPart  string
	}{
		{name: "admin url", base: "https://ucm.example.com:8443/ccmadmin", want: "https://ucm.example.com:8443"},
		{name: "host gets port 8443", settings: map[string]string{"host": "ucm.example.com"}, want: "https://ucm.example.com:8443"},
		{name: "host with port", settings: map[string]string{"host": "ucm.example.com:9443"}, want: "https://ucm.example.com:9443"},
		{name: "IPv6 host", settings: map[string]string{"host": "[2001:db8::1]"}, want: "https://[2001:db8::1]:8443"},
		{name: "ssh only", settings: map[string]string{"ssh_host": "ucm.example.com"}, want: ""},
		{name: "nothing", errPart: "set the admin url"},
		{name: "host that is a URL", settings: map[string]string{"host": "https://ucm.example.com"}, errPart: "should be a host name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc, _ := httpx.New(httpx.Options{})
			p, err := New(&provider.Env{BaseURL: tt.base, Settings: tt.settings, HTTP: hc})
			if tt.errPart != "" {
				providertest.WantKind(t, err, errs.KindUsage, tt.errPart)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.(*Provider).base; got != tt.want {
				t.Errorf("base = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRevokingCountsTokensPerClientAndKeepsNone(t *testing.T) {
	f := newHTTPFixture(t)
	f.fake.IssueRefreshToken("jdoe", "jabber")
	f.fake.IssueRefreshToken("jdoe", "jabber")
	f.fake.IssueRefreshToken("jdoe", "webex")
	f.fake.IssueRefreshToken("other", "webex")

	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "jdoe"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || res.Detail != "3 refresh tokens revoked (clients: jabber, webex)" || res.User != "jdoe" {
		t.Errorf("result = %+v", res)
	}
	if res.StillValid != StillValid {
		t.Errorf("still valid = %q", res.StillValid)
	}
	if f.fake.TokenCount("jdoe") != 0 || f.fake.TokenCount("other") != 1 {
		t.Errorf("tokens left: jdoe %d, other %d", f.fake.TokenCount("jdoe"), f.fake.TokenCount("other"))
	}
	reqs := f.fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodGet || r.Path != "/ssosp/token/revoke" || r.Query.Encode() != "user_id=jdoe" || !r.HasBasic || r.BasicUser != f.fake.User || r.BasicPass != f.fake.Password {
		t.Errorf("request = %+v", r)
	}

	again, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "jdoe"})
	if err != nil {
		t.Fatal(err)
	}
	if again.Outcome != provider.OutcomeNothingToRevoke || again.Detail != "no refresh tokens to revoke (the end user exists)" {
		t.Errorf("second call = %+v", again)
	}
	// The empty answer was checked with AXL getUser, as the schema has it.
	reqs = f.fake.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests after the second revoke, want the revoke and an AXL getUser", len(reqs))
	}
	axl := reqs[2]
	if axl.Method != http.MethodPost || axl.Path != "/axl/" || axl.Header.Get("SOAPAction") != `"CUCM:DB ver=12.5 getUser"` ||
		!strings.HasPrefix(axl.Header.Get("Content-Type"), "text/xml") || axl.BasicUser != f.fake.User || axl.BasicPass != f.fake.Password ||
		!strings.Contains(string(axl.Body), "<userid>jdoe</userid>") {
		t.Errorf("AXL request = %+v", axl)
	}
}

// The revoke API may answer an end user it does not know with an empty
// success; AXL getUser's "Item not valid" fault (axlcode 5007) is what
// says the user does not exist, so a mistyped id is not "nothing to
// revoke".
func TestAnEmptyAnswerForAnUnknownEndUserIsCheckedWithAXL(t *testing.T) {
	f := newHTTPFixture(t)
	f.fake.SetUnknownUser(ucmfake.UnknownUserEmpty)
	f.fake.AddUser("left-no-tokens")
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "jdoe-typo"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeUserNotFound || !strings.Contains(res.Detail, `does not know the end user "jdoe-typo"`) || res.StillValid != "" {
		t.Errorf("unknown user: %+v", res)
	}
	res, err = f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "left-no-tokens"})
	if err != nil || res.Outcome != provider.OutcomeNothingToRevoke {
		t.Errorf("known user without tokens: %+v, %v", res, err)
	}
	// A user id that needs escaping in XML reaches AXL as written.
	f.fake.AddUser(`o'brien & <co>`)
	res, err = f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: `o'brien & <co>`})
	if err != nil || res.Outcome != provider.OutcomeNothingToRevoke {
		t.Errorf("user id with XML characters: %+v, %v", res, err)
	}
}

// When the check itself fails, the user is not reported done: an empty
// answer proves nothing on its own.
func TestAFailedAXLCheckFailsTheUser(t *testing.T) {
	tests := []failureCase{
		{"403", ucmfake.Fail403, 1, errs.KindRefused, "Standard AXL API Access", false},
		{"500 that stays", ucmfake.Fail500, 10, errs.KindNetwork, "could not be checked", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHTTPFixture(t)
			f.fake.AddUser("jdoe")
			_, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "jdoe"})
			if err != nil {
				t.Fatal(err)
			}
			f.fake.SetUnknownUser(ucmfake.UnknownUserEmpty)
			// The revoke succeeds; the faults are for the AXL call after it.
			f.fake.FailAXLNext(tt.fail, tt.n)
			res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ghost"})
			if err == nil {
				t.Fatalf("no error: %+v", res)
			}
			providertest.WantKind(t, err, tt.kind, tt.msgPart)
		})
	}
}

func TestTheAXLVersionSettingReachesTheSOAPAction(t *testing.T) {
	fake := ucmfake.NewForAXL(t, "14.0")
	providertest.Watch(t, fake.Close, fake.Errors)
	fake.SetUnknownUser(ucmfake.UnknownUserEmpty)
	env := providertest.Env(t, fake.URL, &provider.AdminAuth{Scheme: provider.AuthBasic, User: fake.User, Secret: fake.Password}, httpx.Options{Sleep: providertest.NoSleep})
	env.Settings = map[string]string{"axl_version": "14.0"}
	p := providertest.Adapter[*Provider](t, New, env)
	res, err := p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ghost"})
	if err != nil || res.Outcome != provider.OutcomeUserNotFound {
		t.Fatalf("%+v, %v", res, err)
	}
	env.Settings = map[string]string{"axl_version": "fourteen"}
	p = providertest.Adapter[*Provider](t, New, env)
	_, err = p.PlanRevokeUser(provider.RevokeUserRequest{User: "ghost"})
	providertest.WantKind(t, err, errs.KindUsage, "axl_version")
}

func TestAClientIDNarrowsTheRevocation(t *testing.T) {
	f := newHTTPFixture(t)
	f.fake.IssueRefreshToken("jdoe", "jabber")
	f.fake.IssueRefreshToken("jdoe", "webex")
	req := provider.RevokeUserRequest{User: "jdoe", Client: "webex"}
	calls, err := f.p.PlanRevokeUser(req)
	if err != nil || len(calls) != 2 || calls[0].Path != "/ssosp/token/revoke?client_id=webex&user_id=jdoe" || !strings.HasPrefix(calls[1].Path, "/axl/") {
		t.Fatalf("plan = %v, %v", calls, err)
	}
	res, err := f.p.RevokeUser(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Detail != "1 refresh token revoked (client: webex)" || res.Client != "webex" {
		t.Errorf("result = %+v", res)
	}
	if f.fake.TokenCount("jdoe") != 1 {
		t.Error("the other client's token was revoked too")
	}
	if q := f.fake.Requests()[0].Query; q.Get("client_id") != "webex" || q.Get("user_id") != "jdoe" {
		t.Errorf("query = %v", q)
	}
}

func TestAnUnknownEndUserIsReportedNotFound(t *testing.T) {
	for _, shape := range []ucmfake.UnknownUser{ucmfake.UnknownUserStatus, ucmfake.UnknownUser404} {
		f := newHTTPFixture(t)
		f.fake.SetUnknownUser(shape)
		res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "ghost"})
		if err != nil {
			t.Fatalf("shape %d: %v", shape, err)
		}
		if res.Outcome != provider.OutcomeUserNotFound || !strings.Contains(res.Detail, "User ghost not found") {
			t.Errorf("shape %d: result = %+v", shape, res)
		}
	}
}

// failureCase is a fault the fake is told to answer with, and the error
// the adapter must make of it.
type failureCase struct {
	name    string
	fail    ucmfake.Failure
	n       int
	kind    errs.Kind
	msgPart string
	// quoted is set when the vendor quotes a token inside a message:
	// the trace blanks refresh_token members, not the same value
	// repeated in free text, which the adapter cannot know before
	// the answer arrives (see the redact package).
	quoted bool
}

func TestRevokeFailuresAreClassifiedWithoutLeakingTokens(t *testing.T) {
	tests := []failureCase{
		{"a failure status quoting a token", ucmfake.FailStatus, 1, errs.KindUnknown, `status "failure": Database error while revoking token [redacted] for jdoe`, true},
		{"403", ucmfake.Fail403, 1, errs.KindRefused, "lacks the permission (HTTP 403): The user does not have the Standard AXL API Access role", false},
		{"429 that does not lift", ucmfake.Fail429, 10, errs.KindNetwork, "rate limited", false},
		{"500", ucmfake.Fail500, 1, errs.KindNetwork, "(HTTP 500): Internal Server Error", false},
		{"an HTML page", ucmfake.FailHTML, 10, errs.KindNetwork, "HTML page", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHTTPFixture(t)
			f.fake.IssueRefreshToken("jdoe", "jabber")
			f.fake.FailNext(tt.fail, tt.n)
			res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "jdoe"})
			if err == nil {
				t.Fatalf("no error: %+v", res)
			}
			providertest.WantKind(t, err, tt.kind, tt.msgPart)
			if tt.quoted {
				assertNotIn(t, f, err.Error())
				return
			}
			assertNoTokens(t, f, err.Error())
		})
	}
}

func TestWrongAXLCredentialsAreRefused(t *testing.T) {
	fake := ucmfake.New(t)
	defer fake.Close()
	hc := providertest.HTTP(t, httpx.Options{Sleep: providertest.NoSleep})
	p, err := New(&provider.Env{BaseURL: fake.URL, HTTP: hc, Sleep: providertest.NoSleep, Auth: &provider.AdminAuth{Scheme: provider.AuthBasic, User: fake.User, Secret: "wrong-password"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.(*Provider).RevokeUser(context.Background(), provider.RevokeUserRequest{User: "jdoe"})
	providertest.WantKind(t, err, errs.KindRefused, "HTTP 401")
	providertest.NoSecrets(t, []string{"wrong-password"}, err.Error())
}

func TestARateLimitedRevokeIsRetried(t *testing.T) {
	f := newHTTPFixture(t)
	f.fake.IssueRefreshToken("jdoe", "jabber")
	f.fake.FailNext(ucmfake.Fail429, 1)
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "jdoe"})
	if err != nil || res.Outcome != provider.OutcomeRevoked {
		t.Fatalf("res %+v err %v", res, err)
	}
	if n := len(f.fake.Requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// assertNoTokens fails when any refresh token the fake issued, or the AXL
// password, appears in the texts or the debug trace.
func assertNoTokens(t *testing.T, f *httpFixture, texts ...string) {
	t.Helper()
	assertNotIn(t, f, append(texts, f.debug.String())...)
}

// assertNotIn checks the texts only.
func assertNotIn(t *testing.T, f *httpFixture, texts ...string) {
	t.Helper()
	for _, text := range texts {
		providertest.NoSecrets(t, append(f.fake.IssuedTokens(), f.fake.Password), text)
	}
}

func TestRevokedRefreshTokensNeverAppearInResultsOrTheTrace(t *testing.T) {
	f := newHTTPFixture(t)
	for i := 0; i < 3; i++ {
		f.fake.IssueRefreshToken("jdoe", "jabber")
	}
	f.fake.IssueRefreshToken("jdoe", "webex")
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "jdoe"})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(res)
	if !strings.Contains(f.debug.String(), "/ssosp/token/revoke") || !strings.Contains(f.debug.String(), "clientID_tokens") {
		t.Fatalf("the trace does not show the answer:\n%s", f.debug.String())
	}
	assertNoTokens(t, f, string(out), res.Detail)
}

func TestRevokeRequestsThatMakeNoSenseAreUsageErrors(t *testing.T) {
	f := newHTTPFixture(t)
	for _, req := range []provider.RevokeUserRequest{{User: ""}, {User: "jdoe", Method: "grants"}} {
		if _, err := f.p.RevokeUser(context.Background(), req); !errs.Is(err, errs.KindUsage) {
			t.Errorf("%+v: err = %v", req, err)
		}
	}
	hc, _ := httpx.New(httpx.Options{})
	sshOnly, _ := New(&provider.Env{HTTP: hc, Settings: map[string]string{"ssh_host": "ucm"}})
	_, err := sshOnly.(*Provider).RevokeUser(context.Background(), provider.RevokeUserRequest{User: "jdoe"})
	providertest.WantKind(t, err, errs.KindUsage, "")
	if n := len(f.fake.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestTheExpiryTimersAreDescribedButNotSet(t *testing.T) {
	f := newHTTPFixture(t)
	apps, err := f.p.ListApps(context.Background())
	if err != nil || len(apps) != 1 || apps[0].ID != "cluster" {
		t.Fatalf("apps = %v, %v", apps, err)
	}
	lt, err := f.p.GetExpiry(context.Background(), "jabber")
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken.Known || lt.RefreshToken.Known || lt.App != "cluster" {
		t.Errorf("lifetimes claim knowledge: %+v", lt)
	}
	if !strings.Contains(lt.AccessToken.From, "OAuth Access Token Expiry Timer") || lt.AccessToken.Native != "default 60 minutes" || !strings.Contains(lt.RefreshToken.SetWhere, "Enterprise Parameters") {
		t.Errorf("access %+v refresh %+v", lt.AccessToken, lt.RefreshToken)
	}
	notes := strings.Join(lt.Notes, "\n")
	if !strings.Contains(notes, "jabber is ignored") || !strings.Contains(notes, "cluster-wide") {
		t.Errorf("notes = %q", lt.Notes)
	}
	d := time.Hour
	_, err = f.p.PlanExpiry(context.Background(), "cluster", provider.LifetimeChange{AccessToken: &d})
	if !errs.Is(err, errs.KindUnsupported) || !strings.Contains(err.Error(), "System > Enterprise Parameters") || !strings.Contains(err.Error(), "invalid") {
		t.Errorf("plan: %v", err)
	}
	_, err = f.p.ApplyExpiry(context.Background(), &provider.ExpiryPlan{})
	providertest.WantKind(t, err, errs.KindUnsupported, "")
	if n := len(f.fake.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestBlankingRemovesOpaqueAndJWTShapedTokens(t *testing.T) {
	in := "failed for rt.AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 and eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln and known-secret-1"
	got := blankTokens(in, []string{"known-secret-1"})
	for _, leaked := range []string{"AbCdEf", "eyJ", "known-secret-1"} {
		if strings.Contains(got, leaked) {
			t.Errorf("%q still in %q", leaked, got)
		}
	}
	if !strings.HasPrefix(got, "failed for [redacted]") {
		t.Errorf("got %q", got)
	}
}

func TestTheAccessProbeAsksAXLForTheVersion(t *testing.T) {
	f := newHTTPFixture(t)
	got, err := f.p.ProbeAccess(context.Background())
	if err != nil || !strings.Contains(got, ucmfake.Version) {
		t.Fatalf("%q, %v", got, err)
	}
	f.fake.FailAXLNext(ucmfake.Fail403, 1)
	_, err = f.p.ProbeAccess(context.Background())
	providertest.WantKind(t, err, errs.KindRefused, "HTTP 403")

	// A profile for key rotation over SSH only has no AXL to ask.
	hc, _ := httpx.New(httpx.Options{})
	sshOnly, err := New(&provider.Env{Settings: map[string]string{"ssh_host": "ucm.example.com"}, HTTP: hc})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sshOnly.(*Provider).ProbeAccess(context.Background())
	providertest.WantKind(t, err, errs.KindUnsupported, "admin url")
}

// A user id typed in another case ("JDoe" for jdoe) is found by AXL, whose
// directory ignores case, while the revoke API matched nothing: the
// revocation is repeated as the UCM spells the id, so jdoe's tokens do not
// stay live under "nothing to revoke".
func TestAUserIDInAnotherCaseIsRevokedAsTheUCMSpellsIt(t *testing.T) {
	f := newHTTPFixture(t)
	f.fake.SetUnknownUser(ucmfake.UnknownUserEmpty)
	f.fake.IssueRefreshToken("jdoe", "jabber")
	res, err := f.p.RevokeUser(context.Background(), provider.RevokeUserRequest{User: "JDoe"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provider.OutcomeRevoked || res.User != "JDoe" || !strings.Contains(res.Detail, `as the UCM spells the user id: "jdoe"`) {
		t.Fatalf("result = %+v", res)
	}
	if n := f.fake.TokenCount("jdoe"); n != 0 {
		t.Fatalf("jdoe still holds %d refresh tokens", n)
	}
}
