package okta_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/okta"
	"github.com/idpctl/idpctl/internal/provider/okta/oktafake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func dur(d time.Duration) *time.Duration { return &d }
func boolp(b bool) *bool                 { return &b }

func TestListAppsListsOIDCAppsAcrossPages(t *testing.T) {
	f := setup(t, nil)
	for i := 0; i < 205; i++ {
		id := fmt.Sprintf("0oaMany%03d", i)
		f.srv.AddApp(oktafake.OIDCApp(id, id, "App "+id))
	}
	saml := oktafake.OIDCApp("0oaSaml", "", "SAML app")
	saml["name"] = "template_saml_2_0"
	f.srv.AddApp(saml)
	apps, err := f.p.ListApps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 207 {
		t.Fatalf("%d apps, want 207 OIDC apps", len(apps))
	}
	if apps[0] != (provider.App{ID: appID, ClientID: clientID, Name: "Payroll"}) {
		t.Fatalf("first app %+v", apps[0])
	}
	got := calls(f.srv)
	if len(got) != 2 || got[0] != `GET /api/v1/apps?filter=name+eq+%22oidc_client%22&limit=200` {
		t.Fatalf("calls %q", got)
	}
}

func TestGetExpiryReadsTheRuleOktaAppliesToTheApp(t *testing.T) {
	f := setup(t, nil)
	// A higher-priority rule for another grant type must be skipped.
	f.srv.AddRule("default", "00p1", oktafake.Rule("0pr0", "Machines", 0, 5, 0, 10, "client_credentials"))
	app := oktafake.OIDCApp("0oa3rot", "0oa3rot", "Rotating")
	app["settings"].(map[string]any)["oauthClient"].(map[string]any)["refresh_token"] = map[string]any{"rotation_type": "ROTATE", "leeway": 20}
	f.srv.AddApp(app)
	f.srv.AddPolicy("default", oktafake.Policy("00p0", "Rotating", 0, "0oa3rot"))
	f.srv.AddRule("default", "00p0", oktafake.Rule("0pr3", "Short", 1, 15, 1440, 60, "authorization_code"))

	lt, err := f.p.GetExpiry(context.Background(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken.Value != time.Hour || lt.AccessToken.Source != provider.SourceInherited || !strings.Contains(lt.AccessToken.From, `rule "Payroll rule"`) {
		t.Fatalf("access %+v", lt.AccessToken)
	}
	if !lt.RefreshToken.Unlimited || lt.RefreshIdle.Value != 7*24*time.Hour || lt.RefreshIdle.Native != "10080 minutes" {
		t.Fatalf("refresh %+v idle %+v", lt.RefreshToken, lt.RefreshIdle)
	}
	if lt.Rotation == nil || *lt.Rotation || !strings.Contains(strings.Join(lt.Notes, " "), "first active rule") {
		t.Fatalf("rotation %v notes %q", lt.Rotation, lt.Notes)
	}

	lt, err = f.p.GetExpiry(context.Background(), "0oa3rot")
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken.Value != 15*time.Minute || lt.RefreshToken.Value != 24*time.Hour || lt.RefreshIdle.Value != time.Hour {
		t.Fatalf("lifetimes %+v", lt)
	}
	if !*lt.Rotation || lt.ReuseInterval.Value != 20*time.Second || lt.ReuseInterval.Source != provider.SourceApp {
		t.Fatalf("rotation %v reuse %+v", *lt.Rotation, lt.ReuseInterval)
	}
}

func TestAnAppIsFoundByACustomClientID(t *testing.T) {
	f := setup(t, nil)
	f.srv.AddApp(oktafake.OIDCApp("0oa4custom", "billing-service", "Billing"))
	f.srv.AddPolicy("default", oktafake.Policy("00p4", "Billing", 0, "billing-service"))
	f.srv.AddRule("default", "00p4", oktafake.Rule("0pr4", "Billing rule", 1, 30, 0, 10080))
	lt, err := f.p.GetExpiry(context.Background(), "billing-service")
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken.Value != 30*time.Minute || lt.App != "billing-service (Billing)" {
		t.Fatalf("lifetimes %+v", lt)
	}
	_, err = f.p.GetExpiry(context.Background(), "no-such-client")
	providertest.WantKind(t, err, errs.KindUsage, "no OpenID Connect app")
}

func TestAnAppNoPolicyAppliesToHasUnknownLifetimes(t *testing.T) {
	// An org whose only policy is for another client.
	srv := oktafake.New(t, oktafake.Options{})
	defer srv.Close()
	srv.AddApp(oktafake.OIDCApp("0oa5lone", "0oa5lone", "Lonely"))
	srv.AddAuthorizationServer("default")
	srv.AddPolicy("default", oktafake.Policy("00p9", "Someone else", 1, "0oaOther"))
	p := newProvider(t, srv, nil)
	lt, err := p.GetExpiry(context.Background(), "0oa5lone")
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken.Known || !strings.Contains(lt.Notes[0], "no active policy") {
		t.Fatalf("lifetimes %+v", lt)
	}
	_, err = p.PlanExpiry(context.Background(), "0oa5lone", provider.LifetimeChange{AccessToken: dur(time.Hour)})
	providertest.WantKind(t, err, errs.KindUsage, "create an access policy")
}

func TestUnitsAndRangesAreRefusedBeforeAnyRequest(t *testing.T) {
	f := setup(t, nil)
	tests := []struct {
		name   string
		ch     provider.LifetimeChange
		substr string
	}{
		{"seconds in an access lifetime", provider.LifetimeChange{AccessToken: dur(90 * time.Second)}, "whole minutes"},
		{"access below five minutes", provider.LifetimeChange{AccessToken: dur(4 * time.Minute)}, "5m to 24h"},
		{"access above a day", provider.LifetimeChange{AccessToken: dur(25 * time.Hour)}, "5m to 24h"},
		{"seconds in a refresh lifetime", provider.LifetimeChange{RefreshToken: dur(30 * time.Second)}, "whole minutes"},
		{"negative refresh lifetime", provider.LifetimeChange{RefreshToken: dur(-time.Hour)}, "negative"},
		{"refresh below ten minutes", provider.LifetimeChange{RefreshToken: dur(5 * time.Minute)}, "10m to 5 years, or 0 for unlimited"},
		{"refresh above five years", provider.LifetimeChange{RefreshToken: dur(3650 * 24 * time.Hour)}, "10m to 5 years, or 0 for unlimited"},
		{"idle below ten minutes", provider.LifetimeChange{RefreshIdle: dur(5 * time.Minute)}, "10m to 5 years"},
		{"idle above five years", provider.LifetimeChange{RefreshIdle: dur(6 * 365 * 24 * time.Hour)}, "10m to 5 years"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.p.PlanExpiry(context.Background(), clientID, tt.ch)
			providertest.WantKind(t, err, errs.KindUsage, tt.substr)
		})
	}
	if n := len(f.srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestASharedRuleIsChangedOnlyWhenAllowed(t *testing.T) {
	f := setup(t, nil)
	ch := provider.LifetimeChange{AccessToken: dur(30 * time.Minute)}
	// 0oa2other gets the ALL_CLIENTS policy.
	_, err := f.p.PlanExpiry(context.Background(), "0oa2other", ch)
	providertest.WantKind(t, err, errs.KindUsage, "every client of the server (ALL_CLIENTS)")
	if !strings.Contains(err.Error(), "--shared-rule-ok") {
		t.Fatalf("the error does not say how to proceed: %v", err)
	}
	if n := count(f.srv, "PUT", "/"); n != 0 {
		t.Fatal("a refused plan wrote")
	}

	f.srv.AddApp(oktafake.OIDCApp("0oa6a", "0oa6a", "A"))
	f.srv.AddPolicy("default", oktafake.Policy("00p6", "Pair", 0, "0oa6a", "0oa6b"))
	f.srv.AddRule("default", "00p6", oktafake.Rule("0pr6", "Pair rule", 1, 60, 0, 10080))
	_, err = f.p.PlanExpiry(context.Background(), "0oa6a", ch)
	providertest.WantKind(t, err, errs.KindUsage, "client(s) 0oa6b")

	ch.Options = map[string]string{"shared_rule_ok": "true"}
	plan, err := f.p.PlanExpiry(context.Background(), "0oa6a", ch)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan.Warnings, " "), "also applies to client(s) 0oa6b") {
		t.Fatalf("warnings %q", plan.Warnings)
	}
}

func TestApplyReplacesTheWholeRuleAndKeepsItsOtherMembers(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanExpiry(ctx, clientID, provider.LifetimeChange{
		AccessToken: dur(30 * time.Minute), RefreshToken: dur(7 * 24 * time.Hour), RefreshIdle: dur(24 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Before.AccessToken.Value != time.Hour || plan.After.AccessToken.Value != 30*time.Minute || !plan.Before.RefreshToken.Unlimited || plan.After.RefreshToken.Unlimited {
		t.Fatalf("before %+v after %+v", plan.Before, plan.After)
	}
	if len(plan.Calls) != 1 || plan.Calls[0].Method != "PUT" || plan.Calls[0].Path != "/api/v1/authorizationServers/default/policies/00p1/rules/0pr1" {
		t.Fatalf("calls %v", plan.Calls)
	}
	if n := count(f.srv, "PUT", "/"); n != 0 {
		t.Fatal("planning wrote")
	}
	got, err := f.p.ApplyExpiry(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken.Value != 30*time.Minute || got.RefreshToken.Value != 7*24*time.Hour || got.RefreshIdle.Value != 24*time.Hour {
		t.Fatalf("read back %+v", got)
	}
	rule := f.srv.Rule("default", "00p1", "0pr1")
	groups := rule["conditions"].(map[string]any)["people"].(map[string]any)["groups"].(map[string]any)["include"]
	if fmt.Sprint(groups) != "[EVERYONE]" || rule["name"] != "Payroll rule" || rule["type"] != "RESOURCE_ACCESS" {
		t.Fatalf("unrelated members lost: %v", rule)
	}
	tok := rule["actions"].(map[string]any)["token"].(map[string]any)
	if fmt.Sprintf("%v %v %v", tok["accessTokenLifetimeMinutes"], tok["refreshTokenLifetimeMinutes"], tok["refreshTokenWindowMinutes"]) != "30 10080 1440" {
		t.Fatalf("token actions %v", tok)
	}
	for _, r := range f.srv.Requests() {
		if r.Method == "PUT" {
			var body map[string]any
			if err := json.Unmarshal(r.Body, &body); err != nil || body["conditions"] == nil || body["priority"] == nil {
				t.Fatalf("PUT body is not the whole rule: %s", r.Body)
			}
		}
	}
}

func TestLifetimesOktaWouldRefuseTogetherAreRefusedBeforeWriting(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	f.srv.AddApp(oktafake.OIDCApp("0oa7", "0oa7", "Finite"))
	f.srv.AddPolicy("default", oktafake.Policy("00p7", "Finite", 0, "0oa7"))
	f.srv.AddRule("default", "00p7", oktafake.Rule("0pr7", "Finite rule", 1, 60, 120, 60))
	_, err := f.p.PlanExpiry(ctx, "0oa7", provider.LifetimeChange{AccessToken: dur(3 * time.Hour)})
	providertest.WantKind(t, err, errs.KindUsage, "at least the access token lifetime")
	_, err = f.p.PlanExpiry(ctx, "0oa7", provider.LifetimeChange{RefreshIdle: dur(3 * time.Hour)})
	providertest.WantKind(t, err, errs.KindUsage, "cannot exceed its lifetime")
	if n := count(f.srv, "PUT", "/"); n != 0 {
		t.Fatal("a refused plan wrote")
	}
}

func TestEnablingRotationReplacesTheWholeApp(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanExpiry(ctx, clientID, provider.LifetimeChange{Rotation: boolp(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Calls) != 1 || plan.Calls[0].Path != "/api/v1/apps/"+appID || *plan.Before.Rotation || !*plan.After.Rotation {
		t.Fatalf("plan %+v", plan)
	}
	got, err := f.p.ApplyExpiry(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if !*got.Rotation || got.ReuseInterval.Value != 30*time.Second {
		t.Fatalf("read back rotation %v reuse %+v", *got.Rotation, got.ReuseInterval)
	}
	app := f.srv.App(appID)
	oc := app["settings"].(map[string]any)["oauthClient"].(map[string]any)
	if fmt.Sprint(oc["redirect_uris"]) != "[https://app.example.com/callback]" || app["visibility"] == nil || app["label"] != "Payroll" {
		t.Fatalf("unrelated members lost: %v", app)
	}
	if fmt.Sprint(oc["refresh_token"]) != "map[leeway:30 rotation_type:ROTATE]" {
		t.Fatalf("refresh_token %v", oc["refresh_token"])
	}
	if n := count(f.srv, "PUT", "/api/v1/authorizationServers"); n != 0 {
		t.Fatal("a rotation change rewrote the rule")
	}
}

func TestApplyRefusesARuleChangedSinceThePlan(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	first, err := f.p.PlanExpiry(ctx, clientID, provider.LifetimeChange{AccessToken: dur(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.p.PlanExpiry(ctx, clientID, provider.LifetimeChange{AccessToken: dur(45 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.ApplyExpiry(ctx, second); err != nil {
		t.Fatal(err)
	}
	_, err = f.p.ApplyExpiry(ctx, first)
	providertest.WantKind(t, err, errs.KindUsage, "changed in Okta since the plan")
	tok := f.srv.Rule("default", "00p1", "0pr1")["actions"].(map[string]any)["token"].(map[string]any)
	if fmt.Sprint(tok["accessTokenLifetimeMinutes"]) != "45" {
		t.Fatalf("the stale plan overwrote the rule: %v", tok)
	}
}

func TestTheOrgServersLifetimesCannotBeSetButRotationCan(t *testing.T) {
	f := setup(t, map[string]string{"authorization_server": "org"})
	ctx := context.Background()
	_, err := f.p.PlanExpiry(ctx, clientID, provider.LifetimeChange{AccessToken: dur(30 * time.Minute)})
	providertest.WantKind(t, err, errs.KindUnsupported, "custom authorization server")
	if n := len(f.srv.Requests()); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
	lt, err := f.p.GetExpiry(ctx, clientID)
	if err != nil {
		t.Fatal(err)
	}
	if lt.AccessToken.Value != time.Hour || lt.AccessToken.Source != provider.SourceVendor || lt.AccessToken.SetWhere == "" {
		t.Fatalf("access %+v", lt.AccessToken)
	}
	plan, err := f.p.PlanExpiry(ctx, clientID, provider.LifetimeChange{Rotation: boolp(true)})
	if err != nil || len(plan.Calls) != 1 {
		t.Fatalf("plan %+v err %v", plan, err)
	}
}

func TestExpiryWriteErrorsAreClassified(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanExpiry(ctx, clientID, provider.LifetimeChange{AccessToken: dur(30 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Inject(oktafake.Injection{Method: "PUT", Fault: oktafake.Fault403})
	_, err = f.p.ApplyExpiry(ctx, plan)
	providertest.WantKind(t, err, errs.KindRefused, "HTTP 403")

	// A 429 on a write is repeated once the window resets.
	f.srv.Inject(oktafake.Injection{Method: "PUT", Fault: oktafake.Fault429, ResetIn: time.Second})
	if _, err := f.p.ApplyExpiry(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if n := count(f.srv, "PUT", "/"); n != 3 {
		t.Fatalf("%d PUTs, want the refused one, the rate-limited one and its repeat", n)
	}
}

func newProvider(t *testing.T, srv *oktafake.Server, settings map[string]string) interface {
	provider.AppExpiryManager
	provider.KeyRotator
} {
	t.Helper()
	return providertest.Adapter[*okta.Provider](t, okta.New, newEnv(t, srv, settings, &providertest.Sleeps{}))
}
