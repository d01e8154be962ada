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

// maxPages bounds a paginated listing; more pages than this means a broken
// or hostile next link rather than a real deployment.
const maxPages = 500

// Provider is the Hydra adapter. It implements provider.UserTokenRevoker,
// provider.AppExpiryManager and provider.KeyRotator.
type Provider struct {
	env       *provider.Env
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
	public := strings.TrimRight(env.Setting("public_url", env.Issuer), "/")
	return &Provider{
		env:       env,
		base:      base,
		publicURL: public,
		keySet:    env.Setting("key_set", IDTokenKeySet),
		keyAlg:    env.Setting("key_alg", "RS256"),
	}, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

func (p *Provider) url(path string) string { return p.base + path }

// get sends an idempotent GET and returns the response whatever its status.
func (p *Provider) get(ctx context.Context, path string, q url.Values) (*httpx.Response, error) {
	return p.env.Send(ctx, httpx.Request{Method: http.MethodGet, URL: p.url(path), Query: q, Idempotent: true})
}

// del sends an idempotent DELETE. Deleting a subject's sessions twice ends
// in the same state, so a serialization conflict is retried like a 503.
func (p *Provider) del(ctx context.Context, path string, q url.Values) (*httpx.Response, error) {
	return p.env.Send(ctx, httpx.Request{Method: http.MethodDelete, URL: p.url(path), Query: q, Idempotent: true, Transient: IsConcurrentUpdate})
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

// write sends a POST or PUT: repeated only after a 429, which says the
// server did not act on it.
func (p *Provider) write(ctx context.Context, method, path string, body any) (*httpx.Response, error) {
	return p.env.Send(ctx, httpx.Request{Method: method, URL: p.url(path), JSON: body, RetryRateLimited: true})
}

// fail classifies an unexpected status with Hydra's own error text. A
// serialization conflict that outlasted the retries is transient, not a
// refusal: the same call succeeds once the other transaction is done.
func fail(operation string, resp *httpx.Response) error {
	if IsConcurrentUpdate(resp) {
		return provider.Transient(errs.New(errs.KindNetwork, "hydra: %s: the database reported a concurrent update of the same records (HTTP 400: %s); nothing was changed, try again", operation, provider.Clean(vendorMessage(resp.Body))))
	}
	return provider.StatusError("hydra: "+operation, resp, vendorMessage(resp.Body))
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

// listAll walks a listing paginated by a Link header (Hydra's keyset and
// token pagination both put the next page's query in rel="next"), calling
// page with each body.
func (p *Provider) listAll(ctx context.Context, operation, path string, q url.Values, page func(*httpx.Response) error) error {
	seen := map[string]bool{}
	for i := 0; ; i++ {
		if i >= maxPages {
			return errs.New(errs.KindNetwork, "hydra: %s: more than %d pages; the server's next links do not end", operation, maxPages)
		}
		resp, err := p.get(ctx, path, q)
		if err != nil {
			return err
		}
		if resp.Status != http.StatusOK {
			return fail(operation, resp)
		}
		if err := page(resp); err != nil {
			return err
		}
		next, ok := nextPageQuery(resp.Header, q)
		if !ok || seen[next.Encode()] {
			return nil
		}
		seen[next.Encode()] = true
		q = next
	}
}

// nextPageQuery returns the query of the rel="next" link merged over the
// current query, or false when there is no next page. Only the query is
// taken: the link's host and path are the server's business, and following
// them could send the admin credential elsewhere.
func nextPageQuery(h http.Header, current url.Values) (url.Values, bool) {
	for _, header := range h.Values("Link") {
		for _, part := range splitLinks(header) {
			target, rel, ok := parseLink(part)
			if !ok || rel != "next" {
				continue
			}
			// Some ory/x releases query-escape the whole URL inside <>.
			if !strings.Contains(target, "?") && strings.Contains(target, "%3F") {
				if un, err := url.QueryUnescape(target); err == nil {
					target = un
				}
			}
			u, err := url.Parse(target)
			if err != nil {
				continue
			}
			linkQ := u.Query()
			if linkQ.Get("page_token") == "" && linkQ.Get("offset") == "" {
				continue
			}
			next := url.Values{}
			for k, v := range current {
				next[k] = append([]string(nil), v...)
			}
			for k, v := range linkQ {
				next[k] = v
			}
			return next, true
		}
	}
	return nil, false
}

// splitLinks splits a Link header value into its link-values (RFC 8288
// §3); commas inside <...> are part of the URL.
func splitLinks(h string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range h {
		switch r {
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, h[start:i])
				start = i + 1
			}
		}
	}
	return append(out, h[start:])
}

func parseLink(v string) (target, rel string, ok bool) {
	v = strings.TrimSpace(v)
	open, close := strings.Index(v, "<"), strings.Index(v, ">")
	if open != 0 || close < 0 {
		return "", "", false
	}
	target = v[1:close]
	for _, param := range strings.Split(v[close+1:], ";") {
		k, val, found := strings.Cut(strings.TrimSpace(param), "=")
		if found && strings.EqualFold(strings.TrimSpace(k), "rel") {
			rel = strings.Trim(strings.TrimSpace(val), `"`)
		}
	}
	return target, rel, true
}
