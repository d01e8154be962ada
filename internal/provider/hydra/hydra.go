package hydra

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name of this adapter.
const Name = "hydra"

// Key sets Hydra signs with (x.OpenIDConnectKeyName, x.OAuth2JWTKeyName).
const (
	IDTokenKeySet     = "hydra.openid.id-token"
	AccessTokenKeySet = "hydra.jwt.access-token"
)

// Provider is the Hydra adapter. It implements provider.UserTokenRevoker,
// provider.AppExpiryManager and provider.KeyRotator.
type Provider struct {
	*provider.Client
	base      string // admin API base, no trailing slash, no /admin
	publicURL string // public base for the JWKS, may be empty
	keySet    string
	keyAlg    string
}

var (
	_ provider.UserTokenRevoker = (*Provider)(nil)
	_ provider.AppExpiryManager = (*Provider)(nil)
	_ provider.KeyRotator       = (*Provider)(nil)
)

// New builds the adapter from the profile; see the package documentation
// for the settings it reads.
func New(env *provider.Env) (provider.Provider, error) {
	if env == nil || env.HTTP == nil {
		return nil, errs.New(errs.KindUsage, "hydra: no HTTP client configured")
	}
	base := strings.TrimRight(strings.TrimSpace(env.BaseURL), "/")
	if base == "" {
		return nil, errs.New(errs.KindUsage, "hydra: the admin API URL is not set: set the profile's admin url to Hydra's admin endpoint (for example http://127.0.0.1:4445)")
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errs.New(errs.KindUsage, "hydra: the admin url %q is not an http(s) URL", base)
	}
	base = strings.TrimSuffix(base, "/admin")
	c, err := provider.NewClient(env, Name, base, provider.ClientOptions{
		Decode: decodeError,
		// Hydra's keyset and token pagination put the next page's query in
		// rel="next"; the rest of the link is Hydra's idea of its own URL.
		FollowNext: nextPage,
		// Deleting a subject's sessions twice ends in the same state, so a
		// serialization conflict is retried like a 503.
		Transient: IsConcurrentUpdate,
		// One try and four retries, as every admin call had before the base.
		MaxAttempts: 5,
	})
	if err != nil {
		return nil, err
	}
	public := strings.TrimRight(env.Setting("public_url", env.Issuer), "/")
	return &Provider{
		Client:    c,
		base:      base,
		publicURL: public,
		keySet:    env.Setting("key_set", IDTokenKeySet),
		keyAlg:    env.Setting("key_alg", "RS256"),
	}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// get sends an idempotent GET and returns the answer whatever its status.
func (p *Provider) get(ctx context.Context, path string) (*httpx.Response, error) {
	return p.Do(ctx, provider.Req{Method: http.MethodGet, Path: path})
}

// del sends an idempotent DELETE, retried on a concurrent update.
func (p *Provider) del(ctx context.Context, path string, q url.Values) (*httpx.Response, error) {
	return p.Do(ctx, provider.Req{Method: http.MethodDelete, Path: path, Query: q})
}

// write sends a POST or PUT: repeated only after a 429, which says the
// server did not act on it.
func (p *Provider) write(ctx context.Context, method, path string, body any) (*httpx.Response, error) {
	return p.Do(ctx, provider.Req{Method: method, Path: path, JSON: body, RetryRateLimited: true})
}

// IsConcurrentUpdate recognises the 400 Hydra answers when its database
// aborted the transaction on a serialization conflict, typically two
// deletes of one subject's sessions at once (ory/x sqlcon
// ErrConcurrentUpdate: "Unable to serialize access due to a concurrent
// update in another session."). Nothing was changed; an idempotent call may
// simply be repeated. Both error forms (herodot's container and the flat
// OAuth 2.0 one) are read.
func IsConcurrentUpdate(resp *httpx.Response) bool {
	if resp == nil || resp.Status != http.StatusBadRequest {
		return false
	}
	msg := strings.ToLower(vendorMessage(resp.Body))
	return strings.Contains(msg, "serialize access") || strings.Contains(msg, "concurrent update")
}

// fail classifies an unexpected status with Hydra's own error text. A
// serialization conflict that outlasted the retries is transient, not a
// refusal: the same call succeeds once the other transaction is done.
func (p *Provider) fail(operation string, resp *httpx.Response) error {
	if IsConcurrentUpdate(resp) {
		return provider.Transient(errs.New(errs.KindNetwork, "hydra: %s: the database reported a concurrent update of the same records (HTTP 400: %s); nothing was changed, try again", operation, provider.Clean(vendorMessage(resp.Body))))
	}
	return p.Fail(operation, resp)
}

// decodeError is the base's view of Hydra's error document.
func decodeError(resp *httpx.Response) provider.VendorError {
	return provider.VendorError{Message: vendorMessage(resp.Body)}
}

// vendorMessage reads Hydra's error document: the OAuth 2.0 form
// {"error","error_description"} of Hydra v2, or herodot's
// {"error":{"message","reason"}} of older releases.
func vendorMessage(body []byte) string {
	var doc struct {
		Error       json.RawMessage `json:"error"`
		Description string          `json:"error_description"`
		Hint        string          `json:"error_hint"`
	}
	if json.Unmarshal(body, &doc) != nil || len(doc.Error) == 0 {
		return ""
	}
	var parts []string
	var s string
	if json.Unmarshal(doc.Error, &s) == nil {
		parts = append(parts, s)
	} else {
		var obj struct {
			Message string `json:"message"`
			Reason  string `json:"reason"`
		}
		if json.Unmarshal(doc.Error, &obj) == nil {
			parts = append(parts, obj.Message, obj.Reason)
		}
	}
	parts = append(parts, doc.Description, doc.Hint)
	var out []string
	for _, s := range parts {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return strings.Join(out, ": ")
}

// nextPage takes the query of a rel="next" link onto the current page's
// URL, over its current query, or ends the listing when the link carries
// no cursor. Only the query is taken: the link's host and path are what
// Hydra believes its URL to be, which behind a gateway they are not, and
// following them could send the admin credential elsewhere.
func nextPage(current *url.URL, target string) (*url.URL, bool) {
	// Some ory/x releases query-escape the whole URL inside <>.
	if !strings.Contains(target, "?") && strings.Contains(target, "%3F") {
		if un, err := url.QueryUnescape(target); err == nil {
			target = un
		}
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, false
	}
	linkQ := u.Query()
	if linkQ.Get("page_token") == "" && linkQ.Get("offset") == "" {
		return nil, false
	}
	q := current.Query()
	for k, v := range linkQ {
		q[k] = v
	}
	next := *current
	next.RawQuery = q.Encode()
	return &next, true
}
