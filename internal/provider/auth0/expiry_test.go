package auth0_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/auth0/auth0fake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func dur(d time.Duration) *time.Duration { return &d }
func boolp(b bool) *bool                 { return &b }

func TestListAppsPagesThroughEveryApplication(t *testing.T) {
	f := setup(t, nil)
	for i := 0; i < 248; i++ {
		f.srv.AddClient(auth0fake.Application(fmt.Sprintf("c%03d", i), fmt.Sprintf("App %d", i), nil))
	}
	apps, err := f.p.ListApps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 250 || apps[0] != (provider.App{ID: app1, ClientID: app1, Name: "Payroll"}) {
		t.Fatalf("%d apps, first %+v", len(apps), apps[0])
	}
	got := calls(f.srv)
	if len(got) != 3 || got[2] != "GET /api/v2/clients?fields=client_id%2Cname&include_fields=true&include_totals=true&page=2&per_page=100" {
		t.Fatalf("calls %q", got)
	}
}

func TestGetExpiryReadsTheRefreshTokenSettingsAndTheAPI(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	lt, err := f.p.GetExpiry(ctx, app1)
	if err != nil {
		t.Fatal(err)
	}
	if lt.RefreshToken.Value != 30*24*time.Hour || lt.RefreshIdle.Value != 15*24*time.Hour || lt.ReuseInterval.Value != 10*time.Second || !*lt.Rotation {
		t.Fatalf("lifetimes %+v", lt)
	}
	if lt.AccessToken.Known || !strings.Contains(lt.AccessToken.SetWhere, "--api") {
		t.Fatalf("access %+v: it belongs to an API", lt.AccessToken)
	}
	if !strings.Contains(strings.Join(lt.Notes, " "), "ID tokens last 36000 seconds") {
		t.Fatalf("notes %q", lt.Notes)
	}

	lt, err = f.p.GetExpiry(ctx, app2)
	if err != nil {
		t.Fatal(err)
	}
	if !lt.RefreshToken.Unlimited || lt.RefreshToken.Source != provider.SourceVendor || *lt.Rotation {
		t.Fatalf("defaults %+v", lt)
	}

	withAPI := setup(t, map[string]string{"api": apiIdentifier})
	lt, err = withAPI.p.GetExpiry(ctx, app1)
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken.Value != 24*time.Hour || lt.AccessToken.Source != provider.SourceInherited || lt.AccessToken.From != "API "+apiIdentifier {
		t.Fatalf("access %+v", lt.AccessToken)
	}
	_, err = f.p.GetExpiry(ctx, "noSuchClient")
	providertest.WantKind(t, err, errs.KindUsage, "no application")
}

func TestUnitsRangesAndAMissingAPIAreRefusedBeforeAnyRequest(t *testing.T) {
	f := setup(t, nil)
	api := map[string]string{"api": apiIdentifier}
	tests := []struct {
		name   string
		ch     provider.LifetimeChange
		kind   errs.Kind
		substr string
	}{
		{"fractions of a second", provider.LifetimeChange{RefreshToken: dur(1500 * time.Millisecond)}, errs.KindUsage, "whole seconds"},
		{"a negative idle lifetime", provider.LifetimeChange{RefreshIdle: dur(-time.Second)}, errs.KindUsage, "negative"},
		{"a refresh lifetime over five years", provider.LifetimeChange{RefreshToken: dur(6 * 365 * 24 * time.Hour)}, errs.KindUsage, "Auth0's range"},
		{"an access lifetime over thirty days", provider.LifetimeChange{AccessToken: dur(31 * 24 * time.Hour), Options: api}, errs.KindUsage, "1s to 30d"},
		{"an access lifetime without an API", provider.LifetimeChange{AccessToken: dur(time.Hour)}, errs.KindUnsupported, "--api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.p.PlanExpiry(context.Background(), app1, tt.ch)
			providertest.WantKind(t, err, tt.kind, tt.substr)
		})
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestApplySendsTheWholeRefreshTokenObject(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanExpiry(ctx, app1, provider.LifetimeChange{RefreshToken: dur(20 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Before.RefreshToken.Value != 30*24*time.Hour || plan.After.RefreshToken.Value != 20*24*time.Hour || len(plan.Calls) != 1 {
		t.Fatalf("plan %+v", plan)
	}
	if n := count(f.srv, "PATCH", "/"); n != 0 {
		t.Fatal("planning wrote")
	}
	got, err := f.p.ApplyExpiry(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if got.RefreshToken.Value != 20*24*time.Hour || got.RefreshIdle.Value != 15*24*time.Hour || !*got.Rotation {
		t.Fatalf("read back %+v", got)
	}
	var sent map[string]map[string]any
	for _, r := range f.srv.Requests() {
		if r.Method == "PATCH" {
			dec := json.NewDecoder(bytes.NewReader(r.Body))
			dec.UseNumber()
			if err := dec.Decode(&sent); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(sent) != 1 || len(sent["refresh_token"]) != 8 || fmt.Sprint(sent["refresh_token"]["token_lifetime"]) != "1728000" {
		t.Fatalf("PATCH body %v: want only refresh_token, with every member", sent)
	}
	stored := f.srv.StoredClient(app1)
	rt := stored["refresh_token"].(map[string]any)
	if rt["policies"] == nil || fmt.Sprint(rt["leeway"]) != "10" || stored["callbacks"] == nil || stored["name"] != "Payroll" {
		t.Fatalf("unrelated settings lost: %v", stored)
	}
}

func TestMakingRefreshTokensExpireSwitchesTheExpirationType(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanExpiry(ctx, app2, provider.LifetimeChange{RefreshIdle: dur(24 * time.Hour), Rotation: boolp(true)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.ApplyExpiry(ctx, plan); err != nil {
		t.Fatal(err)
	}
	rt := f.srv.StoredClient(app2)["refresh_token"].(map[string]any)
	if rt["expiration_type"] != "expiring" || rt["rotation_type"] != "rotating" || fmt.Sprint(rt["idle_token_lifetime"]) != "86400" || rt["infinite_idle_token_lifetime"] != false {
		t.Fatalf("refresh_token %v", rt)
	}
}

func TestUnlimitedIsSentAsAuth0sInfiniteFlag(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanExpiry(ctx, app1, provider.LifetimeChange{RefreshToken: dur(0)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.p.ApplyExpiry(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if !got.RefreshToken.Unlimited || f.srv.StoredClient(app1)["refresh_token"].(map[string]any)["infinite_token_lifetime"] != true {
		t.Fatalf("read back %+v", got.RefreshToken)
	}
}

func TestAnIdleLifetimeBeyondTheAbsoluteOneIsRefused(t *testing.T) {
	f := setup(t, nil)
	_, err := f.p.PlanExpiry(context.Background(), app1, provider.LifetimeChange{RefreshIdle: dur(60 * 24 * time.Hour)})
	providertest.WantKind(t, err, errs.KindUsage, "cannot exceed its absolute lifetime")
}

func TestTheAccessLifetimeIsSetOnTheNamedAPI(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanExpiry(ctx, app1, provider.LifetimeChange{AccessToken: dur(2 * time.Hour), Options: map[string]string{"api": apiIdentifier}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan.Warnings, " "), "every application requesting tokens for it") {
		t.Fatalf("warnings %q", plan.Warnings)
	}
	got, err := f.p.ApplyExpiry(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken.Value != 2*time.Hour {
		t.Fatalf("read back %+v", got.AccessToken)
	}
	var patched string
	for _, r := range f.srv.Requests() {
		if r.Method == "PATCH" {
			patched = r.Path + " " + string(r.Body)
		}
	}
	if patched != "/api/v2/resource-servers/"+apiID+" {\"token_lifetime\":7200}\n" && patched != "/api/v2/resource-servers/"+apiID+" {\"token_lifetime\":7200}" {
		t.Fatalf("PATCH %q", patched)
	}
	if rs := f.srv.StoredAPI(apiID); rs["scopes"] == nil || fmt.Sprint(rs["token_lifetime_for_web"]) != "7200" {
		t.Fatalf("API %v", rs)
	}
	if count(f.srv, "PATCH", "/api/v2/clients") != 0 {
		t.Fatal("the application was rewritten for an API change")
	}
}

func TestApplyRefusesSettingsChangedSinceThePlan(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	first, err := f.p.PlanExpiry(ctx, app1, provider.LifetimeChange{RefreshToken: dur(20 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.p.PlanExpiry(ctx, app1, provider.LifetimeChange{Rotation: boolp(false)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.ApplyExpiry(ctx, second); err != nil {
		t.Fatal(err)
	}
	_, err = f.p.ApplyExpiry(ctx, first)
	providertest.WantKind(t, err, errs.KindUsage, "changed in Auth0 since the plan")
	if f.srv.StoredClient(app1)["refresh_token"].(map[string]any)["rotation_type"] != "non-rotating" {
		t.Fatal("the stale plan overwrote the settings")
	}
}

func TestExpiryWriteErrorsAreClassified(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanExpiry(ctx, app1, provider.LifetimeChange{Rotation: boolp(false)})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Inject(auth0fake.Injection{Method: "PATCH", Fault: auth0fake.Fault403})
	_, err = f.p.ApplyExpiry(ctx, plan)
	providertest.WantKind(t, err, errs.KindRefused, "HTTP 403")
	f.srv.Inject(auth0fake.Injection{Method: "PATCH", Fault: auth0fake.Fault500})
	_, err = f.p.ApplyExpiry(ctx, plan)
	providertest.WantKind(t, err, errs.KindNetwork, "HTTP 500")
	if n := count(f.srv, "PATCH", "/"); n != 2 {
		t.Fatalf("%d PATCHes: a failed write must not be repeated blindly", n)
	}
}

// Auth0 requires an API's token_lifetime_for_web to be at most its
// token_lifetime and answers 400 otherwise: the change is refused before
// any write, with what to do instead.
func TestAnAccessLifetimeBelowTheBrowserFlowLifetimeIsRefusedBeforeAnyWrite(t *testing.T) {
	f := setup(t, nil) // the API's token_lifetime_for_web is 7200
	ctx := context.Background()
	_, err := f.p.PlanExpiry(ctx, app1, provider.LifetimeChange{AccessToken: dur(time.Hour), Options: map[string]string{"api": apiIdentifier}})
	providertest.WantKind(t, err, errs.KindUsage, "token_lifetime_for_web")
	if !strings.Contains(err.Error(), "2h") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("error %q does not say the limit and that nothing changed", err)
	}
	if n := count(f.srv, "PATCH", "/api/v2/"); n != 0 {
		t.Fatalf("%d PATCH requests sent", n)
	}
	// The limit itself is accepted.
	plan, err := f.p.PlanExpiry(ctx, app1, provider.LifetimeChange{AccessToken: dur(2 * time.Hour), Options: map[string]string{"api": apiIdentifier}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.ApplyExpiry(ctx, plan); err != nil {
		t.Fatal(err)
	}
}
