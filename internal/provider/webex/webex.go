// Package webex is the admin adapter for Webex, on provider.Client.
//
// Webex keeps a user's grants to integrations as "authorizations" (Webex
// Admin API reference, Authorizations, OpenAPI "webex-authorizations-api"
// 1.0.0): GET /v1/authorizations lists a user's, DELETE
// /v1/authorizations/{id} revokes one; deleting a refresh authorization
// also revokes the access tokens made from it. People are found with GET
// /v1/people?email=, so that a user Webex does not know is reported as
// not found rather than as a user with nothing to revoke.
//
// Settings: admin url (default https://webexapis.com/v1). Admin auth: a
// bearer token of a Full, User or Device Admin (or an integration acting
// for one) with the scopes identity:tokens_read, identity:tokens_write and
// spark-admin:people_read.
//
// Webex fixes token lifetimes (access 14 days, refresh 90 days) and offers
// no key API, so the adapter implements revocation only.
package webex

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name of this adapter.
const Name = "webex"

// DefaultURL is Webex's public API base.
const DefaultURL = "https://webexapis.com/v1"

// Sentences for the capabilities Webex does not offer (registry).
const (
	UnsupportedExpiry = "Webex sets token lifetimes itself (access tokens 14 days, refresh tokens 90 days, renewed while used); there is no per-integration setting"
	UnsupportedKeys   = "Webex manages its signing keys and offers no API to rotate them"
)

// Permissions the adapter needs, for plans and doctor.
const (
	ScopeTokensRead  = "identity:tokens_read"
	ScopeTokensWrite = "identity:tokens_write"
	ScopePeopleRead  = "spark-admin:people_read"
)

// Provider is the Webex adapter.
type Provider struct {
	*provider.Client
}

var _ provider.UserTokenRevoker = (*Provider)(nil)

// New builds the adapter from the profile.
func New(env *provider.Env) (provider.Provider, error) {
	if env == nil {
		return nil, errs.New(errs.KindUsage, "webex: no environment")
	}
	base := env.BaseURL
	if base == "" {
		base = DefaultURL
	}
	if env.Auth == nil {
		env.Auth = &provider.AdminAuth{}
	}
	if env.Auth.Scheme == "" {
		env.Auth.Scheme = provider.AuthBearer
	}
	c, err := provider.NewClient(env, Name, base, provider.ClientOptions{Decode: decodeError})
	if err != nil {
		return nil, err
	}
	return &Provider{Client: c}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// Permissions lists what the admin token needs.
func (p *Provider) Permissions() []string {
	return []string{ScopeTokensRead, ScopeTokensWrite, ScopePeopleRead}
}

// decodeError reads Webex's error body: {"message","errors":[{"description"}],"trackingId"}.
func decodeError(resp *httpx.Response) provider.VendorError {
	var doc struct {
		Message string `json:"message"`
		Errors  []struct {
			Description string `json:"description"`
		} `json:"errors"`
		TrackingID string `json:"trackingId"`
	}
	if json.Unmarshal(resp.Body, &doc) != nil {
		return provider.VendorError{}
	}
	msg := doc.Message
	if msg == "" && len(doc.Errors) > 0 {
		msg = doc.Errors[0].Description
	}
	if doc.TrackingID != "" {
		msg = strings.TrimSpace(msg + " (tracking id " + doc.TrackingID + ")")
	}
	return provider.VendorError{Message: msg}
}

// PlanRevokeUser implements provider.UserTokenRevoker.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if strings.TrimSpace(req.User) == "" {
		return nil, errs.New(errs.KindUsage, "webex: no user given")
	}
	if req.Method != "" {
		return nil, errs.New(errs.KindUsage, "webex: --method is not used here: each authorization is deleted")
	}
	prefix := p.Base.Path
	calls := []provider.Call{}
	list := prefix + "/authorizations?personId={personId}"
	if isEmail(req.User) {
		calls = append(calls, provider.Call{Method: http.MethodGet, Path: prefix + "/people?email=" + url.QueryEscape(req.User), Purpose: "find the person (" + ScopePeopleRead + ")"})
	} else {
		calls = append(calls, provider.Call{Method: http.MethodGet, Path: prefix + "/people/" + url.PathEscape(req.User), Purpose: "find the person (" + ScopePeopleRead + ")"})
	}
	calls = append(calls, provider.Call{Method: http.MethodGet, Path: list, Purpose: "list the user's authorizations (" + ScopeTokensRead + ")"})
	purpose := "delete each authorization: refresh tokens and the access tokens made from them (" + ScopeTokensWrite + ")"
	if req.Client != "" {
		purpose = "delete each authorization of client " + req.Client + " (" + ScopeTokensWrite + ")"
	}
	calls = append(calls, provider.Call{Method: http.MethodDelete, Path: prefix + "/authorizations/{authorizationId}", Purpose: purpose})
	return provider.Placeholders(calls), nil
}

func isEmail(s string) bool { return strings.Contains(s, "@") }

type person struct {
	ID          string   `json:"id"`
	Emails      []string `json:"emails"`
	DisplayName string   `json:"displayName"`
}

// authorization is one grant (Webex "Authorization" schema).
type authorization struct {
	ID              string `json:"id"`
	ApplicationID   string `json:"applicationId"`
	ApplicationName string `json:"applicationName"`
	PersonID        string `json:"personId"`
	ClientID        string `json:"clientId"`
	Created         string `json:"created"`
	Type            string `json:"type"`
}

// ProbeAccess implements provider.AccessProber for doctor: listing one
// person of the organisation without a filter is what only an admin's
// token may do ("List People": admins may omit email and displayName),
// and it changes nothing. The token's identity scopes cannot be proved
// without touching someone's authorizations, so doctor names them.
func (p *Provider) ProbeAccess(ctx context.Context) (string, error) {
	var doc struct {
		Items []person `json:"items"`
	}
	if _, err := p.Call(ctx, "listing people", provider.Req{Method: http.MethodGet, Path: "/people", Query: url.Values{"max": {"1"}}}, &doc, http.StatusOK); err != nil {
		return "", err
	}
	return "an organisation-wide people listing was answered", nil
}

// findPerson resolves an email or a person id; nil when Webex has no such person.
func (p *Provider) findPerson(ctx context.Context, user string) (*person, error) {
	if isEmail(user) {
		var doc struct {
			Items []person `json:"items"`
		}
		if _, err := p.Call(ctx, "finding "+user, provider.Req{Method: http.MethodGet, Path: "/people", Query: url.Values{"email": {user}}}, &doc, http.StatusOK); err != nil {
			return nil, err
		}
		if len(doc.Items) == 0 {
			return nil, nil
		}
		if len(doc.Items) > 1 {
			return nil, errs.New(errs.KindUsage, "webex: %d people have the email %s; give the person id instead", len(doc.Items), user)
		}
		return &doc.Items[0], nil
	}
	var pr person
	_, err := p.Call(ctx, "finding "+user, provider.Req{Method: http.MethodGet, Path: "/people/" + url.PathEscape(user)}, &pr, http.StatusOK)
	if s := provider.StatusOf(err); s == http.StatusNotFound || s == http.StatusBadRequest {
		// Webex answers 400 for a string that is not a person id at all.
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &pr, nil
}

// RevokeUser implements provider.UserTokenRevoker: every authorization of
// the user (or of the user at one client) is deleted and named.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	if _, err := p.PlanRevokeUser(req); err != nil {
		return nil, err
	}
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client}
	pr, err := p.findPerson(ctx, req.User)
	if err != nil {
		return nil, err
	}
	if pr == nil {
		res.Outcome, res.Detail = provider.OutcomeUserNotFound, "Webex has no person "+req.User
		return res, nil
	}
	var doc struct {
		Items []authorization `json:"items"`
	}
	if _, err := p.Call(ctx, "listing the authorizations of "+req.User, provider.Req{Method: http.MethodGet, Path: "/authorizations", Query: url.Values{"personId": {pr.ID}}}, &doc, http.StatusOK); err != nil {
		return nil, err
	}
	var deleted []string
	for _, a := range doc.Items {
		if req.Client != "" && a.ClientID != req.Client {
			continue
		}
		// 404: already gone (a parallel run, or deleting a refresh
		// authorization took its access authorizations with it).
		if _, err := p.Call(ctx, "deleting authorization "+a.ID, provider.Req{Method: http.MethodDelete, Path: "/authorizations/" + url.PathEscape(a.ID)}, nil, http.StatusNoContent, http.StatusOK, http.StatusNotFound); err != nil {
			if len(deleted) > 0 {
				return nil, fmt.Errorf("%w (already deleted: %s)", err, strings.Join(deleted, ", "))
			}
			return nil, err
		}
		name := a.ApplicationName
		if name == "" {
			name = a.ClientID
		}
		deleted = append(deleted, fmt.Sprintf("%s (%s)", name, a.Type))
	}
	if len(deleted) == 0 {
		res.Outcome, res.Detail = provider.OutcomeNothingToRevoke, "no authorizations"
		if req.Client != "" {
			// Webex's integrations are not readable with these scopes, so a
			// mistyped client id looks the same: name what the user holds,
			// so a typo shows.
			res.Detail = "no authorizations at client " + req.Client + " (Webex cannot tell whether that client id exists); " + heldAuthorizations(doc.Items)
		}
		return res, nil
	}
	res.Outcome = provider.OutcomeRevoked
	res.Detail = fmt.Sprintf("%d authorization(s) deleted: %s", len(deleted), strings.Join(deleted, ", "))
	res.StillValid = "for a short while where Webex services cache a token's validity (Webex says so of deleted authorizations)"
	return res, nil
}

// heldAuthorizations names the integrations the user has authorized.
func heldAuthorizations(items []authorization) string {
	if len(items) == 0 {
		return "the user holds no authorizations"
	}
	seen := map[string]bool{}
	var names []string
	for _, a := range items {
		n := fmt.Sprintf("%s (%s)", provider.Clean(a.ApplicationName), provider.Clean(a.ClientID))
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return "the user holds authorizations of: " + strings.Join(names, ", ")
}
