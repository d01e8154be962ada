// Package google is the admin adapter for Google Workspace, through the
// Admin SDK Directory API v1 (Google API discovery document
// admin:directory_v1), on provider.Client.
//
// Revocation: POST /admin/directory/v1/users/{userKey}/signOut signs the
// user out of every web and device session and resets their sign-in
// cookies; then each third-party application grant the user holds (GET
// .../users/{userKey}/tokens) is deleted with DELETE
// .../users/{userKey}/tokens/{clientId}, which deletes every token the
// user was issued for that application. With --client only that
// application's grant is deleted and the user is not signed out of Google:
// signOut knows no application. Access tokens already issued live until
// they expire (up to an hour).
//
// A userKey is the primary email, an alias email or the unique user id.
//
// Admin auth: a service account key file (JSON) with domain-wide
// delegation, given as the admin secret; the adapter signs a JWT bearer
// assertion (RFC 7523) for the admin named by the setting subject, with the
// scope https://www.googleapis.com/auth/admin.directory.user.security,
// through golang.org/x/oauth2/google. The key never leaves the process; the
// assertion goes to Google's token URL only (setting token_url, for tests),
// whatever token_uri the key file names. A ready bearer token (admin auth
// bearer) is accepted too.
//
// Settings: subject (required with a key file), url (default
// https://admin.googleapis.com), token_url (default
// https://oauth2.googleapis.com/token).
//
// Google offers no API for token lifetimes (session length is an Admin
// console setting) and manages its signing keys itself.
package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	googleoauth "golang.org/x/oauth2/google"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// Name is the registry name of this adapter.
const Name = "google"

// Defaults of Google's public endpoints.
const (
	DefaultURL      = "https://admin.googleapis.com"
	DefaultTokenURL = googleoauth.JWTTokenURL
)

// Scope is the OAuth scope of the Directory API's user security methods
// (signOut, tokens.list, tokens.delete), granted to the service account's
// client id under domain-wide delegation.
const Scope = "https://www.googleapis.com/auth/admin.directory.user.security"

// Sentences for the capabilities Google offers no API for (registry).
const (
	UnsupportedExpiry = "Google Workspace has no API for token or session lifetimes; set them in the Admin console: Security > Access and data control > Google Cloud session control (reauthentication policy) and, per application, API controls > app access control"
	UnsupportedKeys   = "Google manages and rotates its signing keys itself and offers no API to rotate them (they are published at https://www.googleapis.com/oauth2/v3/certs)"
)

// stillValid completes "access tokens already issued stay valid ...".
const stillValid = "until they expire: up to 1 hour for access tokens Google already issued"

const directory = "/admin/directory/v1"

// Provider is the Google Workspace adapter.
type Provider struct {
	*provider.Client
	subject, tokenURL string

	// mu guards ts, the cached token source; nil until the first call
	// and after a 401 said the cached token is no good.
	mu sync.Mutex
	ts oauth2.TokenSource
}

var _ provider.UserTokenRevoker = (*Provider)(nil)

// New builds the adapter from the profile.
func New(env *provider.Env) (provider.Provider, error) {
	if env == nil {
		return nil, errs.New(errs.KindUsage, "google: no environment")
	}
	base := env.BaseURL
	if base == "" {
		base = DefaultURL
	}
	if env.Auth == nil {
		env.Auth = &provider.AdminAuth{}
	}
	p := &Provider{subject: env.Setting("subject", ""), tokenURL: env.Setting("token_url", DefaultTokenURL)}
	switch env.Auth.Scheme {
	case "", provider.AuthTokenSource:
		env.Auth.Scheme = provider.AuthTokenSource
		env.Auth.TokenSource = p.token
		if p.subject == "" {
			return nil, errs.New(errs.KindUsage, "google: set the admin the service account acts as (--admin subject=admin@your-domain)")
		}
		if _, err := url.Parse(p.tokenURL); err != nil || !strings.HasPrefix(p.tokenURL, "http") {
			return nil, errs.New(errs.KindUsage, "google: the token_url %q is not an http(s) URL", p.tokenURL)
		}
	case provider.AuthBearer:
		// A ready access token with the scope (from an OAuth flow elsewhere).
	default:
		return nil, errs.New(errs.KindUsage, "google: admin auth %q is not used here: leave it unset to use a service account key file, or set bearer for a ready access token", env.Auth.Scheme)
	}
	c, err := provider.NewClient(env, Name, base, provider.ClientOptions{Decode: decodeError})
	if err != nil {
		return nil, err
	}
	p.Client = c
	return p, nil
}

// Name implements provider.Provider.
func (p *Provider) Name() string { return Name }

// Permissions lists the OAuth scope the delegated admin token needs.
func (p *Provider) Permissions() []string { return []string{Scope} }

// token is the AdminAuth token source: a JWT bearer grant for the
// delegated admin, cached by oauth2 until shortly before it expires.
func (p *Provider) token(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ts == nil {
		ts, err := p.tokenSource()
		if err != nil {
			return "", err
		}
		p.ts = ts
	}
	tok, err := p.ts.Token()
	if err != nil {
		return "", tokenError(err)
	}
	return tok.AccessToken, nil
}

// dropToken forgets the cached admin token, so that the next call fetches
// a new one.
func (p *Provider) dropToken() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ts = nil
}

func (p *Provider) tokenSource() (oauth2.TokenSource, error) {
	key := strings.TrimSpace(p.Env.Auth.Secret)
	if key == "" {
		return nil, errs.New(errs.KindUsage, "google: no service account key: point IDPCTL_ADMIN_SECRET_FILE at the JSON key file, or store it with 'idpctl profile add NAME --overwrite --admin-secret-stdin'")
	}
	cfg, err := googleoauth.JWTConfigFromJSON([]byte(key), Scope)
	if err != nil {
		// The parser's text may quote the key; say what is wrong instead.
		return nil, errs.New(errs.KindUsage, "google: the admin secret is not a service account key file (the JSON key with type service_account, client_email and private_key)")
	}
	cfg.Subject = p.subject
	// Only Google's token URL (or the one configured) gets the signed
	// assertion, not whatever token_uri the key file carries.
	cfg.TokenURL = p.tokenURL
	// The token requests go through idpctl's HTTP rules; the context is
	// kept by the token source for every refresh.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, p.Env.HTTP.StandardClient())
	return cfg.TokenSource(ctx), nil
}

// tokenError classifies a failed JWT bearer grant. Google answers
// unauthorized_client when the service account's client id lacks
// domain-wide delegation for the scope, and invalid_grant for an unknown
// or non-admin subject or a deleted key.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		// The JWT flow leaves the OAuth error (RFC 6749 §5.2) in the body.
		var doc struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(re.Body, &doc)
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		msg := provider.Clean(strings.TrimSpace(doc.Error + " " + doc.Description))
		if msg == "" {
			msg = fmt.Sprintf("HTTP %d", status)
		}
		hint := ""
		switch doc.Error {
		case "unauthorized_client":
			hint = "; grant the service account's client id domain-wide delegation with the scope " + Scope
		case "invalid_grant":
			hint = "; check the subject (an admin of the domain) and that the key is still active"
		}
		if status == http.StatusTooManyRequests || status >= 500 {
			return errs.New(errs.KindNetwork, "google: getting the admin token: %s", msg)
		}
		return errs.New(errs.KindRefused, "google: getting the admin token: %s%s", msg, hint)
	}
	if k := errs.KindOf(err); k != errs.KindUnknown {
		return errs.Wrap(k, fmt.Errorf("google: getting the admin token: %w", err))
	}
	return errs.New(errs.KindNetwork, "google: getting the admin token: %s", provider.Clean(err.Error()))
}

// googleError is the Google API error body: {"error":{"code","message",
// "errors":[{"message","domain","reason"}],"status"}}.
type googleError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Reason string `json:"reason"`
		} `json:"errors"`
	} `json:"error"`
}

func reasonOf(body []byte) string {
	var doc googleError
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	if len(doc.Error.Errors) > 0 && doc.Error.Errors[0].Reason != "" {
		return doc.Error.Errors[0].Reason
	}
	return doc.Error.Status
}

func decodeError(resp *httpx.Response) provider.VendorError {
	var doc googleError
	if json.Unmarshal(resp.Body, &doc) != nil {
		return provider.VendorError{}
	}
	return provider.VendorError{Code: reasonOf(resp.Body), Message: doc.Error.Message}
}

// quotaReason reports the 403 reasons Google uses for quota, which are
// retried with exponential backoff like a 429 ("Admin SDK: limits and
// quotas").
func quotaReason(reason string) bool {
	return reason == "rateLimitExceeded" || reason == "userRateLimitExceeded" || reason == "quotaExceeded"
}

// call is Client.Call plus Google's 403 quota answers, which the base does
// not retry: the request was not processed, so it is repeated after an
// exponential wait (1s, 2s, 4s). A 401 fetches a new admin token once.
func (p *Provider) call(ctx context.Context, operation string, r provider.Req, out any, want ...int) (*httpx.Response, error) {
	refetched := false
	for attempt := 1; ; attempt++ {
		resp, err := p.Call(ctx, operation, r, out, want...)
		if resp != nil && resp.Status == http.StatusUnauthorized && !refetched && p.Env.Auth.Scheme == provider.AuthTokenSource {
			// The admin token was revoked or expired early (a long bulk
			// run): fetch a new one, once.
			refetched = true
			p.dropToken()
			attempt--
			continue
		}
		if err == nil || resp == nil || resp.Status != http.StatusForbidden || !quotaReason(reasonOf(resp.Body)) || attempt >= provider.DefaultMaxAttempts {
			if err != nil && resp != nil && resp.Status == http.StatusForbidden && quotaReason(reasonOf(resp.Body)) {
				return resp, errs.Wrap(errs.KindNetwork, fmt.Errorf("%w (quota still exceeded after %d attempts)", err, attempt))
			}
			return resp, err
		}
		if err := p.Sleep(ctx, time.Second<<(attempt-1)); err != nil {
			return nil, errs.Wrap(errs.KindInterrupted, fmt.Errorf("google: waiting to retry: %w", err))
		}
	}
}

// ProbeAccess implements provider.AccessProber for doctor: the admin
// token is obtained (proving the key and its domain-wide delegation) and
// the subject's own application grants are listed, a read that needs the
// adapter's scope and changes nothing. With a ready bearer token there is
// no known admin to read.
func (p *Provider) ProbeAccess(ctx context.Context) (string, error) {
	if p.subject == "" {
		return "", provider.Unsupported(Name, "checking the admin token", "set the admin setting subject to the admin the token acts as")
	}
	var list struct {
		Items []grant `json:"items"`
	}
	_, err := p.call(ctx, "listing the application grants of "+p.subject, provider.Req{Method: http.MethodGet, Path: p.userPath(p.subject, "/tokens")}, &list, http.StatusOK)
	if provider.StatusOf(err) == http.StatusNotFound {
		return "", errs.New(errs.KindUsage, "google: the subject %s is not a user of the domain: set subject to the admin the service account acts as", p.subject)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("the Directory API listed the application grants of %s (%d) with scope %s", p.subject, len(list.Items), Scope), nil
}

// heldGrants names the applications the user holds grants to.
func heldGrants(items []grant) string {
	if len(items) == 0 {
		return "the user holds no application grants"
	}
	names := make([]string, 0, len(items))
	for _, g := range items {
		names = append(names, fmt.Sprintf("%s (%s)", provider.Clean(g.DisplayText), provider.Clean(g.ClientID)))
	}
	return "the user holds grants to: " + strings.Join(names, ", ")
}

func (p *Provider) userPath(userKey, tail string) string {
	return directory + "/users/" + url.PathEscape(userKey) + tail
}

// ---- (A) revoke --------------------------------------------------------------

// PlanRevokeUser implements provider.UserTokenRevoker.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if strings.TrimSpace(req.User) == "" {
		return nil, errs.New(errs.KindUsage, "google: no user given")
	}
	if req.Method != "" {
		return nil, errs.New(errs.KindUsage, "google: --method is not used here")
	}
	scope := " (scope " + Scope + ")"
	var calls []provider.Call
	if req.Client == "" {
		calls = append(calls, provider.Call{Method: http.MethodPost, Path: p.userPath(req.User, "/signOut"), Purpose: "sign the user out of every web and device session" + scope})
	}
	calls = append(calls, provider.Call{Method: http.MethodGet, Path: p.userPath(req.User, "/tokens"), Purpose: "list the applications the user granted access" + scope})
	purpose := "delete every token the user was issued for each application" + scope
	path := p.userPath(req.User, "/tokens/{clientId}")
	if req.Client != "" {
		purpose = "delete every token the user was issued for " + req.Client + "; the user stays signed in to Google" + scope
		path = p.userPath(req.User, "/tokens/"+url.PathEscape(req.Client))
	}
	calls = append(calls, provider.Call{Method: http.MethodDelete, Path: path, Purpose: purpose})
	return provider.Placeholders(calls), nil
}

// grant is one application grant (Directory API "Token" resource).
type grant struct {
	ClientID    string   `json:"clientId"`
	DisplayText string   `json:"displayText"`
	Anonymous   bool     `json:"anonymous"`
	NativeApp   bool     `json:"nativeApp"`
	UserKey     string   `json:"userKey"`
	Scopes      []string `json:"scopes"`
	Kind        string   `json:"kind"`
	Etag        string   `json:"etag"`
}

// RevokeUser implements provider.UserTokenRevoker.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	if _, err := p.PlanRevokeUser(req); err != nil {
		return nil, err
	}
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client}
	notFound := func() (*provider.RevokeUserResult, error) {
		res.Outcome, res.Detail = provider.OutcomeUserNotFound, "the domain has no user "+req.User
		return res, nil
	}
	signedOut := false
	if req.Client == "" {
		// signOut is repeatable: a second sign-out changes nothing, so a
		// rate-limited one may be sent again.
		_, err := p.call(ctx, "signing out "+req.User, provider.Req{Method: http.MethodPost, Path: p.userPath(req.User, "/signOut"), RetryRateLimited: true}, nil, http.StatusNoContent, http.StatusOK)
		if provider.StatusOf(err) == http.StatusNotFound {
			return notFound()
		}
		if err != nil {
			return nil, err
		}
		signedOut = true
	}
	var list struct {
		Kind  string  `json:"kind"`
		Etag  string  `json:"etag"`
		Items []grant `json:"items"`
	}
	_, err := p.call(ctx, "listing the application grants of "+req.User, provider.Req{Method: http.MethodGet, Path: p.userPath(req.User, "/tokens")}, &list, http.StatusOK)
	if provider.StatusOf(err) == http.StatusNotFound && !signedOut {
		return notFound()
	}
	if err != nil {
		if signedOut {
			return nil, fmt.Errorf("%w (the user was already signed out of every session)", err)
		}
		return nil, err
	}
	var deleted []string
	for _, g := range list.Items {
		if req.Client != "" && g.ClientID != req.Client {
			continue
		}
		// 404: the grant went away meanwhile (the user or a parallel run).
		if _, err := p.call(ctx, "deleting the tokens of "+g.ClientID, provider.Req{Method: http.MethodDelete, Path: p.userPath(req.User, "/tokens/"+url.PathEscape(g.ClientID))}, nil, http.StatusNoContent, http.StatusOK, http.StatusNotFound); err != nil {
			done := deleted
			if signedOut {
				done = append([]string{"the user was signed out"}, done...)
			}
			if len(done) > 0 {
				return nil, fmt.Errorf("%w (already done: %s)", err, strings.Join(done, ", "))
			}
			return nil, err
		}
		name := provider.Clean(g.DisplayText)
		if name == "" {
			name = provider.Clean(g.ClientID)
		}
		deleted = append(deleted, name)
	}
	var parts []string
	if signedOut {
		parts = append(parts, "signed out of every web and device session")
	}
	switch {
	case len(deleted) > 0:
		parts = append(parts, fmt.Sprintf("the tokens of %d application(s) deleted: %s", len(deleted), strings.Join(deleted, ", ")))
	case req.Client != "":
		// Google keeps no directory of third-party client ids this
		// adapter can read, so a mistyped one looks the same: name the
		// grants the user does hold, so a typo shows.
		res.Outcome, res.Detail = provider.OutcomeNothingToRevoke, "no grant to application "+req.Client+" (Google cannot tell whether that client id exists); "+heldGrants(list.Items)
		return res, nil
	default:
		parts = append(parts, "no application grants")
	}
	res.Outcome = provider.OutcomeRevoked
	res.Detail = strings.Join(parts, "; ")
	res.StillValid = stillValid
	return res, nil
}
