package provider_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// acme is an adapter on the base: it keeps only the vendor's vocabulary.
type acme struct{ *provider.Client }

func newAcme(env *provider.Env) (*acme, error) {
	c, err := provider.NewClient(env, "acme", env.BaseURL, provider.ClientOptions{
		// The vendor's error body: {"code":"E123","message":"..."}.
		Decode: func(resp *httpx.Response) provider.VendorError {
			var e struct{ Code, Message string }
			_ = json.Unmarshal(resp.Body, &e)
			return provider.VendorError{Code: e.Code, Message: e.Message}
		},
		RateLimit: provider.RateLimitNames{Limit: "Acme-Limit", Remaining: "Acme-Left", Reset: "Acme-Reset"},
	})
	if err != nil {
		return nil, err
	}
	return &acme{c}, nil
}

// revoke is one vendor call: a DELETE (retried as the rules allow) that
// must answer 204; anything else becomes a classified error.
func (a *acme) revoke(ctx context.Context, user string) error {
	_, err := a.Call(ctx, "revoking "+user, provider.Req{Method: http.MethodDelete, Path: "/users/" + url.PathEscape(user) + "/sessions"}, nil, http.StatusNoContent)
	return err
}

// apps walks a listing paged by Link rel="next".
func (a *acme) apps(ctx context.Context) ([]string, error) {
	var ids []string
	err := a.Pages(ctx, "listing apps", "/apps", url.Values{"limit": {"200"}}, func(resp *httpx.Response) error {
		var page []struct{ ID string }
		if err := provider.DecodeExact(resp, &page); err != nil {
			return err
		}
		for _, p := range page {
			ids = append(ids, p.ID)
		}
		return nil
	})
	return ids, err
}

// An adapter embeds provider.Client and writes only the vendor's paths,
// bodies and meanings.
func ExampleClient() {
	env := &provider.Env{BaseURL: "https://acme.example/api"}
	if a, err := newAcme(env); err == nil {
		_ = a.revoke(context.Background(), "jdoe")
		_, _ = a.apps(context.Background())
	}
}
