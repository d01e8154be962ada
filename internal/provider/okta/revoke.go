package okta

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// MethodGrants, as RevokeUserRequest.Method with a client, also revokes the
// user's consent grants for that client, so the app must ask for consent
// again. Without it consents are kept: they are not tokens.
const MethodGrants = "grants"

func validateRevoke(req provider.RevokeUserRequest) error {
	user := strings.TrimSpace(req.User)
	if user == "" {
		return errs.New(errs.KindUsage, "okta: name the user by Okta user id or login")
	}
	if strings.Contains(user, "/") {
		return errs.New(errs.KindUsage, "okta: %q contains \"/\"; Okta cannot fetch such a login, give the user id instead", user)
	}
	switch req.Method {
	case "":
	case MethodGrants:
		if req.Client == "" {
			return errs.New(errs.KindUsage, "okta: revoking consent grants needs a client; without one every token of the user is revoked and consents are kept")
		}
	default:
		return errs.New(errs.KindUsage, "okta: unknown revocation method %q; the only one is %q (also revoke the client's consent grants)", req.Method, MethodGrants)
	}
	return nil
}

func userPath(id string) string { return "/api/v1/users/" + url.PathEscape(id) }

func clientPath(uid, client, what string) string {
	return userPath(uid) + "/clients/" + url.PathEscape(client) + "/" + what
}

// PlanRevokeUser lists the calls RevokeUser makes; nothing is sent.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if err := validateRevoke(req); err != nil {
		return nil, err
	}
	calls := []provider.Call{{Method: http.MethodGet, Path: userPath(req.User), Purpose: "find the user by id or login"}}
	if req.Client == "" {
		return append(calls, provider.Call{
			Method:  http.MethodDelete,
			Path:    "/api/v1/users/{userId}/sessions?oauthTokens=true&forgetDevices=false",
			Purpose: "end every Okta session of the user and revoke all their OAuth 2.0 access and refresh tokens",
		}), nil
	}
	calls = append(calls,
		provider.Call{Method: http.MethodGet, Path: clientPath("{userId}", req.Client, "tokens"), Purpose: "count the user's refresh tokens for the client"},
		provider.Call{Method: http.MethodDelete, Path: clientPath("{userId}", req.Client, "tokens"), Purpose: "revoke them and the access tokens minted from them (skipped when there are none)"},
	)
	if req.Method == MethodGrants {
		calls = append(calls,
			provider.Call{Method: http.MethodGet, Path: clientPath("{userId}", req.Client, "grants"), Purpose: "count the user's consent grants for the client"},
			provider.Call{Method: http.MethodDelete, Path: clientPath("{userId}", req.Client, "grants"), Purpose: "revoke them (skipped when there are none)"},
		)
	}
	calls = provider.Placeholders(calls)
	return calls, nil
}

// RevokeUser revokes the user's tokens, in every app or one.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	if err := validateRevoke(req); err != nil {
		return nil, err
	}
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client}
	uid, reqID, err := p.findUser(ctx, req.User)
	if err != nil {
		return nil, err
	}
	if uid == "" {
		res.Outcome = provider.OutcomeUserNotFound
		res.Detail = fmt.Sprintf("Okta has no user with id or login %q", req.User)
		res.RequestID = reqID
		return res, nil
	}
	if req.Client == "" {
		err = p.revokeAll(ctx, uid, res)
	} else {
		err = p.revokeClient(ctx, uid, req, res)
	}
	if err != nil {
		return nil, err
	}
	if res.Outcome == provider.OutcomeRevoked || res.Outcome == provider.OutcomeNothingToRevoke {
		res.StillValid = p.accessLifetime(ctx, req.Client)
	}
	return res, nil
}

// findUser resolves an id or login to the user id; "" means no such user.
func (p *Provider) findUser(ctx context.Context, user string) (id, requestID string, err error) {
	const op = "okta: finding the user"
	resp, err := p.send(ctx, http.MethodGet, p.api(userPath(user)), nil, nil)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", op, err)
	}
	switch resp.Status {
	case http.StatusOK:
		var u struct {
			ID string `json:"id"`
		}
		if err := provider.DecodeExact(resp, &u); err != nil {
			return "", "", fmt.Errorf("%s: %w", op, err)
		}
		if u.ID == "" {
			return "", "", errs.New(errs.KindNetwork, "%s: Okta answered a user without an id", op)
		}
		return u.ID, provider.RequestID(resp.Header), nil
	case http.StatusNotFound:
		return "", provider.RequestID(resp.Header), nil
	default:
		return "", "", p.fail(op, resp)
	}
}

func (p *Provider) revokeAll(ctx context.Context, uid string, res *provider.RevokeUserResult) error {
	const op = "okta: revoking the user's sessions and tokens"
	q := url.Values{"oauthTokens": {"true"}, "forgetDevices": {"false"}}
	resp, err := p.send(ctx, http.MethodDelete, p.api(userPath(uid)+"/sessions"), q, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	res.RequestID = provider.RequestID(resp.Header)
	switch resp.Status {
	case http.StatusNoContent, http.StatusOK:
		res.Outcome = provider.OutcomeRevoked
		res.Detail = "all Okta sessions of the user ended and all their OAuth 2.0 access and refresh tokens revoked (remembered MFA devices kept)"
		return nil
	case http.StatusNotFound:
		// Deleted between the lookup and now.
		res.Outcome = provider.OutcomeUserNotFound
		res.Detail = "the user disappeared from Okta before the revocation"
		return nil
	default:
		return p.fail(op, resp)
	}
}

func (p *Provider) revokeClient(ctx context.Context, uid string, req provider.RevokeUserRequest, res *provider.RevokeUserResult) error {
	tokens, err := p.countAndRevoke(ctx, uid, req.Client, "tokens", "refresh tokens", res)
	if err != nil {
		return err
	}
	var details []string
	switch tokens {
	case 0:
		details = append(details, fmt.Sprintf("the user holds no refresh token for client %s (access tokens issued without one cannot be listed or revoked here and expire on their own)", req.Client))
	default:
		details = append(details, fmt.Sprintf("%d refresh token(s) of client %s revoked, with the access tokens minted from them", tokens, req.Client))
	}
	revoked := tokens > 0
	if req.Method == MethodGrants {
		grants, err := p.countAndRevoke(ctx, uid, req.Client, "grants", "consent grants", res)
		if err != nil {
			return err
		}
		if grants > 0 {
			details = append(details, fmt.Sprintf("%d consent grant(s) revoked", grants))
			revoked = true
		} else {
			details = append(details, "no consent grant to revoke")
		}
	}
	res.Outcome = provider.OutcomeNothingToRevoke
	if revoked {
		res.Outcome = provider.OutcomeRevoked
	}
	res.Detail = strings.Join(details, "; ")
	return nil
}

// countAndRevoke lists the user's items of one kind for a client and, when
// there are any, revokes them all: counting first is what lets the answer
// say "nothing to revoke" honestly, since the DELETE answers 204 either way.
func (p *Provider) countAndRevoke(ctx context.Context, uid, client, what, label string, res *provider.RevokeUserResult) (int, error) {
	op := "okta: listing the user's " + label
	path := clientPath(uid, client, what)
	n := 0
	err := p.listAll(ctx, op, path, url.Values{"limit": {"200"}}, func(json.RawMessage) error { n++; return nil })
	if provider.StatusOf(err) == http.StatusNotFound {
		return 0, errs.New(errs.KindUsage, "okta: no OAuth client %q in this org (%v)", client, err)
	}
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	op = "okta: revoking the user's " + label
	resp, err := p.send(ctx, http.MethodDelete, p.api(path), nil, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	res.RequestID = provider.RequestID(resp.Header)
	if resp.Status != http.StatusNoContent && resp.Status != http.StatusOK {
		return 0, p.fail(op, resp)
	}
	return n, nil
}

// accessLifetime says how long already-issued access tokens stay valid:
// Okta access tokens are JWTs that resource servers check locally, so a
// revocation only shows through introspection. The bound is the longest
// access-token lifetime among the active rules of the first active policy
// that applies to the client (of every active policy when no client is
// given). Best effort: an
// unreadable policy gives "" (unknown).
func (p *Provider) accessLifetime(ctx context.Context, client string) string {
	if !p.custom() {
		return "up to 1h (the org authorization server issues one-hour access tokens)"
	}
	p.mu.Lock()
	if s, ok := p.stillValid[client]; ok {
		p.mu.Unlock()
		return s
	}
	p.mu.Unlock()
	policies, err := p.policies(ctx)
	if err != nil {
		return ""
	}
	longest := 0
	for _, pol := range policies {
		if pol.Status != "ACTIVE" || (client != "" && !pol.appliesTo(client)) {
			continue
		}
		rules, err := p.rules(ctx, pol.ID)
		if err != nil {
			return ""
		}
		for _, r := range rules {
			if r.Status == "ACTIVE" && r.Access > longest {
				longest = r.Access
			}
		}
		if client != "" {
			break // Okta evaluates only the first policy that applies
		}
	}
	s := ""
	if longest > 0 {
		s = fmt.Sprintf("up to %s (the longest access-token lifetime in the policy rules of authorization server %s)", durations.Format(time.Duration(longest)*time.Minute), p.as)
	}
	p.mu.Lock()
	p.stillValid[client] = s
	p.mu.Unlock()
	return s
}

// sortByPriority orders policies or rules as Okta evaluates them.
func sortByPriority[T any](items []T, prio func(T) int) {
	sort.SliceStable(items, func(i, j int) bool { return prio(items[i]) < prio(items[j]) })
}
