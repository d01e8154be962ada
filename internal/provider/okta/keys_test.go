package okta_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/okta/oktafake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func TestListKeysGivesStatusesAndNoPrivateMembers(t *testing.T) {
	for _, asObject := range []bool{false, true} {
		f := setup(t, nil)
		f.srv.SetKeysAsObject(asObject)
		f.srv.SetLeakPrivateKeyMembers(true)
		keys, err := f.p.ListKeys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 3 || keys[0] != (provider.Key{KID: "default-key-1", Algorithm: "RS256", Use: "sig", Status: "expired"}) || keys[1].Status != "active" || keys[2].Status != "next" {
			t.Fatalf("keys %+v (as object: %v)", keys, asObject)
		}
		b, _ := json.Marshal(keys)
		if strings.Contains(string(b), `"d"`) || strings.Contains(string(b), `"n"`) {
			t.Fatalf("key material in the result: %s", b)
		}
	}
}

func TestRotatingMakesTheNextKeySignAndItIsPublished(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanRotate(ctx, provider.KeySigning, provider.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan.Consequences, " ")
	if !strings.Contains(text, "the NEXT key (kid default-key-3) signs") || !strings.Contains(text, "the ACTIVE key (kid default-key-2) becomes EXPIRED") {
		t.Fatalf("consequences %q", plan.Consequences)
	}
	if n := count(f.srv, "POST", "/"); n != 0 {
		t.Fatal("planning rotated")
	}
	res, err := f.p.Rotate(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	// The old key is EXPIRED, still published: not retired.
	if res.NewKID != "default-key-3" || len(res.Retired) != 0 || !strings.Contains(strings.Join(res.Notes, " "), "default-key-2 is now EXPIRED") || res.JWKSURL != f.srv.URL+"/oauth2/default/v1/keys" {
		t.Fatalf("result %+v", res)
	}
	for _, r := range f.srv.Requests() {
		if r.Method == "POST" && string(r.Body) != `{"use":"sig"}` {
			t.Fatalf("rotate body %s", r.Body)
		}
	}
	body := providertest.Get(t, res.JWKSURL)
	set, _, err := jose.ParseJWKS([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Key(res.NewKID)) != 1 {
		t.Fatalf("new kid %s not in the JWKS %s", res.NewKID, body)
	}
	var active string
	for _, k := range f.srv.Keys("default") {
		if k.Status == "ACTIVE" {
			active = k.Kid
		}
	}
	if active != res.NewKID {
		t.Fatalf("the fake's active key is %s", active)
	}
}

func TestRotationIsRepeatedAfterARateLimitButNotAfterAServerError(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanRotate(ctx, provider.KeySigning, provider.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Inject(oktafake.Injection{Method: "POST", Fault: oktafake.Fault500})
	_, err = f.p.Rotate(ctx, plan)
	providertest.WantKind(t, err, errs.KindNetwork, "HTTP 500")
	if n := count(f.srv, "POST", "/"); n != 1 {
		t.Fatalf("%d rotations sent after a 500: a repeat could rotate twice", n)
	}
	f.srv.Inject(oktafake.Injection{Method: "POST", Fault: oktafake.Fault429, ResetIn: time.Second})
	if _, err := f.p.Rotate(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if n := count(f.srv, "POST", "/"); n != 3 {
		t.Fatalf("%d rotations sent", n)
	}
}

func TestWhatOktaCannotRotateIsUnsupportedWithoutARequest(t *testing.T) {
	f := setup(t, nil)
	_, err := f.p.PlanRotate(context.Background(), provider.KeyEncryption, provider.RotateOptions{})
	providertest.WantKind(t, err, errs.KindUnsupported, "no token encryption key")

	org := setup(t, map[string]string{"authorization_server": "org"})
	_, err = org.p.PlanRotate(context.Background(), provider.KeySigning, provider.RotateOptions{})
	providertest.WantKind(t, err, errs.KindUnsupported, "custom authorization server")
	if len(f.srv.Requests())+len(org.srv.Requests()) != 0 {
		t.Fatal("requests sent")
	}
	keys, err := org.p.ListKeys(context.Background())
	if err != nil || len(keys) != 1 || keys[0].KID != "org-key-1" || keys[0].Status != "published" {
		t.Fatalf("org keys %+v err %v", keys, err)
	}
}

func TestAnUnknownAuthorizationServerIsAUsageError(t *testing.T) {
	f := setup(t, map[string]string{"authorization_server": "ausMissing"})
	_, err := f.p.ListKeys(context.Background())
	providertest.WantKind(t, err, errs.KindUsage, `no custom authorization server "ausMissing"`)
}
