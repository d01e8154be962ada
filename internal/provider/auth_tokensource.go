package provider

import (
	"context"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// AuthTokenSource is the scheme of adapters that get their bearer token
// themselves (Google's service-account JWT bearer flow, RFC 7523 §2.1):
// AdminAuth.TokenSource is asked for it before each call. It is set by an
// adapter, not by a profile.
const AuthTokenSource = "token_source"

func (a *AdminAuth) applyTokenSource(ctx context.Context, req *httpx.Request) error {
	if a.TokenSource == nil {
		return errs.New(errs.KindUsage, "admin auth %s has no token source", AuthTokenSource)
	}
	tok, err := a.TokenSource(ctx)
	if err != nil {
		return err
	}
	if tok == "" {
		return errs.New(errs.KindRefused, "the admin token source gave an empty token")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Secrets = append(req.Secrets, tok)
	return nil
}
