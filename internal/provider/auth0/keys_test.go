package auth0_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/provider"
	"github.com/idpctl/idpctl/internal/provider/auth0/auth0fake"
	"github.com/idpctl/idpctl/internal/provider/providertest"
)

func TestListKeysGivesStatusesAndNoCertificates(t *testing.T) {
	f := setup(t, nil)
	keys, err := f.p.ListKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, k := range keys {
		statuses = append(statuses, k.KID+"="+k.Status)
	}
	if strings.Join(statuses, " ") != "kid-previous=previous kid-current=active kid-next=next" || keys[1].Created.IsZero() {
		t.Fatalf("keys %+v", keys)
	}
	b, _ := json.Marshal(keys)
	if strings.Contains(string(b), "CERTIFICATE") || strings.Contains(string(b), "PKCS7") {
		t.Fatalf("certificate material in the result: %s", b)
	}
}

func TestRotatingTheSigningKeyPublishesTheNewKid(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanRotate(ctx, provider.KeySigning, provider.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(plan.Consequences, " ")
	if !strings.Contains(text, "next key (kid kid-next) signs") || !strings.Contains(text, "current key (kid kid-current) becomes the previous key") {
		t.Fatalf("consequences %q", plan.Consequences)
	}
	if n := count(f.srv, "POST", "/api/v2/keys"); n != 0 {
		t.Fatal("planning rotated")
	}
	res, err := f.p.Rotate(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewKID != "kid-next" || res.JWKSURL != f.srv.URL+"/.well-known/jwks.json" {
		t.Fatalf("result %+v", res)
	}
	body := providertest.Get(t, res.JWKSURL)
	set, _, err := jose.ParseJWKS([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Key(res.NewKID)) != 1 || len(set.Key("kid-current")) != 1 || len(set.Key("kid-previous")) != 0 {
		t.Fatalf("JWKS after rotation: %s", body)
	}
	for _, k := range f.srv.SigningKeys() {
		if k.Current && k.Kid != res.NewKID {
			t.Fatalf("the fake's current key is %s", k.Kid)
		}
	}
}

func TestRekeyingTheEncryptionKeysPublishesNoKid(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanRotate(ctx, provider.KeyEncryption, provider.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Calls) != 1 || plan.Calls[0].Path != "/api/v2/keys/encryption/rekey" || f.srv.Rekeys() != 0 {
		t.Fatalf("plan %+v", plan)
	}
	res, err := f.p.Rotate(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if res.NewKID != "" || res.JWKSURL != "" || len(res.Notes) != 1 || f.srv.Rekeys() != 1 {
		t.Fatalf("result %+v", res)
	}
}

func TestARotationIsNotRepeatedAfterAServerError(t *testing.T) {
	f := setup(t, nil)
	ctx := context.Background()
	plan, err := f.p.PlanRotate(ctx, provider.KeySigning, provider.RotateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.srv.Inject(auth0fake.Injection{Method: "POST", PathPrefix: "/api/v2/keys", Fault: auth0fake.Fault500})
	_, err = f.p.Rotate(ctx, plan)
	providertest.WantKind(t, err, errs.KindNetwork, "HTTP 500")
	if n := count(f.srv, "POST", "/api/v2/keys/signing/rotate"); n != 1 {
		t.Fatalf("%d rotations sent: a repeat could rotate twice", n)
	}
}

func TestKeyListErrorsAreClassified(t *testing.T) {
	f := setup(t, nil)
	f.srv.Inject(auth0fake.Injection{Method: "GET", PathPrefix: "/api/v2/keys", Fault: auth0fake.FaultHTML, Times: -1})
	_, err := f.p.ListKeys(context.Background())
	providertest.WantKind(t, err, errs.KindNetwork, "HTML page")
	_, err = f.p.PlanRotate(context.Background(), "decryption", provider.RotateOptions{})
	providertest.WantKind(t, err, errs.KindUsage, "unknown key use")
}
