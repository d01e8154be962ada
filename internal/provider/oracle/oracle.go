// Package oracle is the admin adapter for Oracle Cloud Infrastructure IAM
// identity domains, formerly Oracle Identity Cloud Service (IDCS). Its
// registry name is "oracle".
//
// # Settings
//
// The domain URL (https://idcs-<id>.identity.oraclecloud.com) is the
// profile's admin "url". Without it the origin of the profile issuer is
// used, except when that issuer is https://identity.oraclecloud.com/: the
// discovery document of every identity domain names that shared issuer, so
// it says nothing about which domain to administer. With client-credentials
// admin auth, New fills the token URL <domain>/oauth2/v1/token and the scope
// urn:opc:idm:__myscopes__ (the admin client needs an admin role in the
// domain, e.g. Identity Domain Administrator or User Administrator).
//
// # What was confirmed, and where
//
//   - PUT /admin/v1/UserStatusChanger/{id} with "active" and the schema
//     urn:ietf:params:scim:schemas:oracle:idcs:UserStatusChanger: the
//     "User Status Changer REST Endpoints" page of the identity domains REST
//     API (docs.oracle.com/en/cloud/paas/iam-domains-rest-api) and the
//     UserStatusChanger model of the OCI Go SDK (identitydomains package);
//     the schema URN from published sample requests.
//   - Grants: GET /admin/v1/Grants (SCIM search), DELETE /admin/v1/Grants/{id}
//     ("Grants REST Endpoints" page). grantee.value and app.value are
//     idcsSearchable (SDK models GrantGrantee, GrantApp), so the filters
//     grantee.value eq "<user id>" and app.value eq "<app id>" are valid.
//     grantMechanism GROUP_MEMBERSHIP marks grants a user holds through a
//     group (SDK model Grant). A Grant with an entitlement
//     ({attributeName, attributeValue}, SDK model GrantEntitlement; app
//     roles have attributeName "appRoles") gives a privilege within the app,
//     such as an administrator role of the domain, not access to the app:
//     the "grants" method keeps and lists those unless IncludeAppRoles
//     (--include-app-roles) is set.
//   - Apps: GET/PATCH /admin/v1/Apps/{id} take the "attributes" query
//     parameter ("Update an App" page, SDK PatchAppRequest).
//     accessTokenExpiry and refreshTokenExpiry are integer seconds, readWrite,
//     and the SDK App model describes them as applying to "any token that
//     allows access to this App": they belong to the resource app whose
//     scopes are requested. allowOffline ("the Refresh Token is allowed when
//     this App acts as an OAuth Resource"), isOAuthClient and name are
//     searchable; name is immutable and "serves as username" when the app
//     authenticates, i.e. it is the OAuth client id.
//   - clientSecret is returned by default on reads of an App. Every App
//     request here names its attributes, so the secret never reaches the
//     debug trace (whose redaction does not know the camelCase name).
//   - GET /admin/v1/SigningCert/jwk returns {"keys":[{kid, alg, kty, x5t,
//     x5c, ...}]} ("Signing Certificates JWK REST Endpoints").
//   - The OpenID discovery document names the issuer
//     https://identity.oraclecloud.com/ (IDCS REST API, "Retrieve OpenID
//     Discovery Doc"); hence the rule above.
//   - Request ids come in the opc-request-id header (SDK responses).
//   - SCIM error bodies follow RFC 7644 §3.12: {"schemas":[...Error],
//     "detail","status"}.
//
// # What stays unconfirmed
//
//   - There is no known endpoint that revokes every token of a user; the
//     adapter offers the two documented alternatives instead (Method
//     "deactivate" or "grants") and says what each leaves valid.
//   - Whether deleting a GROUP_MEMBERSHIP grant is refused or re-created;
//     such grants are left alone and reported.
//   - Which app's expiry wins when one token carries the scopes of several
//     resource apps; the default refresh expiry (604800 s) and the allowed
//     ranges; whether identity domains rotate refresh tokens. No idle
//     timeout exists in the App schema.
//   - The shape of the Oracle extension inside SCIM errors
//     (urn:ietf:params:scim:api:oracle:idcs:extension:messages:Error with a
//     messageId); it is quoted when present.
//   - Rate-limit headers: 429 answers are retried on Retry-After only.
package oracle

import (
	"bytes"
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

// Name is the registry name.
const Name = "oracle"

// DefaultScope is the scope an admin client asks for: all the scopes its
// admin roles allow, in the domain's own resource.
const DefaultScope = "urn:opc:idm:__myscopes__"

// sharedIssuer is the issuer every identity domain advertises.
const sharedIssuer = "identity.oraclecloud.com"

// Provider is the Oracle identity domains adapter.
type Provider struct {
	*provider.Client
	domain string
}

var (
	_ provider.UserTokenRevoker = (*Provider)(nil)
	_ provider.AppExpiryManager = (*Provider)(nil)
	_ provider.KeyRotator       = (*Provider)(nil)
)

// New builds the adapter. It fails when no domain URL can be derived.
func New(env *provider.Env) (provider.Provider, error) {
	if env == nil || env.HTTP == nil {
		return nil, errs.New(errs.KindUsage, "oracle: the adapter needs an HTTP client")
	}
	domain, err := domainURL(env.BaseURL, env.Issuer)
	if err != nil {
		return nil, err
	}
	if env.Auth != nil && env.Auth.Scheme == provider.AuthClientCredentials {
		if env.Auth.TokenURL == "" {
			env.Auth.TokenURL = domain + "/oauth2/v1/token"
		}
		if env.Auth.Scope == "" {
			env.Auth.Scope = DefaultScope
		}
	}
	c, err := provider.NewClient(env, Name, domain, provider.ClientOptions{
		Decode: decodeError,
		// One try and four retries, as every admin call had before the base.
		MaxAttempts: 5,
	})
	if err != nil {
		return nil, err
	}
	return &Provider{Client: c, domain: domain}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// Domain is the identity domain URL the adapter talks to.
func (p *Provider) Domain() string { return p.domain }

func domainURL(baseURL, issuer string) (string, error) {
	raw, from := baseURL, "admin url"
	if raw == "" {
		raw, from = issuer, "issuer"
	}
	if raw == "" {
		return "", errs.New(errs.KindUsage, "oracle: set the admin url to the identity domain URL (https://idcs-<id>.identity.oraclecloud.com)")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", errs.New(errs.KindUsage, "oracle: the %s %q is not an http(s) URL", from, raw)
	}
	if from == "issuer" && strings.EqualFold(u.Hostname(), sharedIssuer) {
		return "", errs.New(errs.KindUsage, "oracle: the issuer %s is shared by every identity domain; set the admin url to your domain URL (https://idcs-<id>.identity.oraclecloud.com)", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// getJSON sends an idempotent GET and decodes a 200 answer. A 404 is
// returned as (false, nil) so callers can say what was not found.
func (p *Provider) getJSON(ctx context.Context, op, path string, q url.Values, out any) (bool, *httpx.Response, error) {
	resp, err := p.Do(ctx, provider.Req{Method: http.MethodGet, Path: path, Query: q})
	if err != nil {
		return false, nil, fmt.Errorf("%s: %w", op, err)
	}
	switch resp.Status {
	case http.StatusOK:
		if err := httpx.DecodeJSON(resp, out); err != nil {
			return false, resp, fmt.Errorf("%s: %w", op, err)
		}
		return true, resp, nil
	case http.StatusNotFound:
		if httpx.IsJSON(resp.Body) {
			return false, resp, nil
		}
	}
	return false, resp, p.Fail(op, resp)
}

// scimError is an RFC 7644 §3.12 error document, with Oracle's extension.
type scimError struct {
	Detail   string          `json:"detail"`
	Status   json.RawMessage `json:"status"`
	ScimType string          `json:"scimType"`
	Oracle   struct {
		MessageID string `json:"messageId"`
	} `json:"urn:ietf:params:scim:api:oracle:idcs:extension:messages:Error"`
}

// vendorMessage extracts the SCIM detail (and Oracle's message id) from an
// error body; empty when the body is not one.
func vendorMessage(body []byte) string {
	var e scimError
	if err := json.Unmarshal(body, &e); err != nil {
		return ""
	}
	msg := e.Detail
	if e.ScimType != "" {
		msg = strings.TrimSpace(msg + " (" + e.ScimType + ")")
	}
	if e.Oracle.MessageID != "" {
		msg = strings.TrimSpace(msg + " [" + e.Oracle.MessageID + "]")
	}
	return msg
}

// decodeError is the base's view of a SCIM error document.
func decodeError(resp *httpx.Response) provider.VendorError {
	return provider.VendorError{Message: vendorMessage(resp.Body)}
}

// requestID prefers Oracle's own header.
func requestID(resp *httpx.Response) string {
	if resp == nil {
		return ""
	}
	if v := resp.Header.Get("Opc-Request-Id"); v != "" {
		return provider.Clean(v)
	}
	return provider.RequestID(resp.Header)
}

// scimString quotes a value for a SCIM filter: compValue strings are JSON
// strings (RFC 7644 §3.4.2.2), so quotes and backslashes are escaped.
// HTML escaping is off: \u003c is valid JSON but needlessly obscure.
func scimString(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return strings.TrimSuffix(b.String(), "\n")
}

// listResponse is a SCIM ListResponse (RFC 7644 §3.4.2).
type listResponse[T any] struct {
	TotalResults int `json:"totalResults"`
	ItemsPerPage int `json:"itemsPerPage"`
	StartIndex   int `json:"startIndex"`
	Resources    []T `json:"Resources"`
}

// pageSize stays well under the 1000 maximum of the identity domains API
// so one page remains a small document.
const pageSize = 100

// maxPages bounds a listing against a server that never stops paging.
const maxPages = 1000

// search runs a paginated SCIM search (RFC 7644 §3.4.2.4: startIndex is
// 1-based, count is the page size).
func search[T any](ctx context.Context, p *Provider, op, path, filter, attributes string) ([]T, *httpx.Response, error) {
	var all []T
	var last *httpx.Response
	start := 1
	for page := 0; page < maxPages; page++ {
		q := url.Values{"count": {fmt.Sprint(pageSize)}, "startIndex": {fmt.Sprint(start)}}
		if filter != "" {
			q.Set("filter", filter)
		}
		if attributes != "" {
			q.Set("attributes", attributes)
		}
		var lr listResponse[T]
		found, resp, err := p.getJSON(ctx, op, path, q, &lr)
		if err != nil {
			return nil, resp, err
		}
		last = resp
		if !found {
			return nil, resp, p.Fail(op, resp)
		}
		all = append(all, lr.Resources...)
		if len(lr.Resources) == 0 || len(all) >= lr.TotalResults {
			return all, last, nil
		}
		start += len(lr.Resources)
	}
	// A listing cut short must not pass for a whole one: a grant on a
	// page never read would stay in force.
	return nil, last, errs.New(errs.KindNetwork, "oracle: %s: more than %d pages of %d; the listing was not finished", op, maxPages, pageSize)
}

// pathEscape keeps ids that come back from the server from changing the
// request path.
func pathEscape(id string) string { return url.PathEscape(id) }
