package hydra

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

const (
	consentPath = "/admin/oauth2/auth/sessions/consent"
	loginPath   = "/admin/oauth2/auth/sessions/login"
)

// stillValidLookups bounds the client reads made to say how long issued
// access tokens live; past it the answer is "unknown" rather than a slow
// bulk run.
const stillValidLookups = 10

// consentSession is the part of Hydra's OAuth2ConsentSession read here.
type consentSession struct {
	ConsentRequest struct {
		Client struct {
			ClientID string `json:"client_id"`
		} `json:"client"`
	} `json:"consent_request"`
}

func consentQuery(subject, client string) url.Values {
	q := url.Values{"subject": {subject}}
	if client != "" {
		q.Set("client", client)
	} else {
		// Hydra answers 400 unless exactly one of client and all=true is given.
		q.Set("all", "true")
	}
	return q
}

func checkUser(req provider.RevokeUserRequest) error {
	if strings.TrimSpace(req.User) == "" {
		return errs.New(errs.KindUsage, "hydra: no subject given")
	}
	return nil
}

// PlanRevokeUser implements provider.UserTokenRevoker.
func (p *Provider) PlanRevokeUser(req provider.RevokeUserRequest) ([]provider.Call, error) {
	if err := checkUser(req); err != nil {
		return nil, err
	}
	list := url.Values{"subject": {req.User}}
	calls := []provider.Call{{Method: http.MethodGet, Path: consentPath + "?" + list.Encode(), Purpose: "list the subject's consent sessions, for the report only (Hydra leaves out those whose remembered consent timed out)"}}
	if req.Client != "" {
		calls = append(calls, provider.Call{Method: http.MethodGet, Path: "/admin/clients/" + url.PathEscape(req.Client), Purpose: "check the client exists (a mistyped one is refused, not 'nothing to revoke') and read its access token lifespan"})
	}
	calls = append(calls, provider.Call{Method: http.MethodDelete, Path: consentPath + "?" + consentQuery(req.User, req.Client).Encode(), Purpose: "always sent: revoke every consent session, listed or not, and their access and refresh tokens"})
	if req.Client == "" {
		calls = append(calls, provider.Call{Method: http.MethodDelete, Path: loginPath + "?" + list.Encode(), Purpose: "end the subject's SSO login sessions (tokens are not touched by this)"})
	}
	return calls, nil
}

// RevokeUser implements provider.UserTokenRevoker. The consent sessions are
// listed for the report, and the revocation is sent whatever the listing
// says: Hydra leaves out of the listing every session whose remembered
// consent has timed out (remember_for), while the refresh tokens issued
// under it stay valid (720h by default) until this DELETE removes them.
// Hydra answers 204 for a subject it has never seen, so an empty listing
// cannot tell an unknown subject from one without sessions; the result
// says so.
func (p *Provider) RevokeUser(ctx context.Context, req provider.RevokeUserRequest) (*provider.RevokeUserResult, error) {
	if err := checkUser(req); err != nil {
		return nil, err
	}
	res := &provider.RevokeUserResult{User: req.User, Client: req.Client}
	read := map[string]*client{}
	if req.Client != "" {
		// Hydra answers 204 to a revocation for a client it does not
		// know, so a mistyped --client would read "nothing to revoke"
		// while the tokens of the client meant stay live.
		c, err := p.readClient(ctx, req.Client)
		if err != nil {
			return nil, err
		}
		read[req.Client] = c
	}

	var sessions []consentSession
	err := p.Pages(ctx, "listing consent sessions", consentPath, url.Values{"subject": {req.User}}, func(resp *httpx.Response) error {
		var page []consentSession
		if err := httpx.DecodeJSON(resp, &page); err != nil {
			return fmt.Errorf("hydra: listing consent sessions: %w", err)
		}
		sessions = append(sessions, page...)
		res.RequestID = provider.RequestID(resp.Header)
		return nil
	})
	if err != nil {
		return nil, err
	}
	clients := map[string]int{}
	for _, s := range sessions {
		id := s.ConsentRequest.Client.ClientID
		if req.Client == "" || id == req.Client {
			clients[id]++
		}
	}
	matched := 0
	for _, n := range clients {
		matched += n
	}

	resp, err := p.del(ctx, consentPath, consentQuery(req.User, req.Client))
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusNoContent && resp.Status != http.StatusOK {
		return nil, p.fail("revoking consent sessions", resp)
	}
	if id := provider.RequestID(resp.Header); id != "" {
		res.RequestID = id
	}
	loginEnded := false
	if req.Client == "" {
		resp, err := p.del(ctx, loginPath, url.Values{"subject": {req.User}})
		if err != nil {
			return nil, err
		}
		if resp.Status != http.StatusNoContent && resp.Status != http.StatusOK {
			return nil, p.fail("ending login sessions", resp)
		}
		loginEnded = true
	}

	switch {
	case matched == 0 && req.Client != "":
		res.Outcome = provider.OutcomeNothingToRevoke
		res.Detail = fmt.Sprintf("Hydra listed no consent session for client %s; %s", req.Client, unlisted)
	case matched == 0:
		res.Outcome = provider.OutcomeNothingToRevoke
		res.Detail = "Hydra listed no consent session; " + unlisted + "; SSO login sessions ended too (forces a new login)"
	case req.Client != "":
		res.Outcome = provider.OutcomeRevoked
		res.Detail = fmt.Sprintf("revoked %s of client %s with their access and refresh tokens", plural(matched, "consent session"), req.Client)
	default:
		res.Outcome = provider.OutcomeRevoked
		res.Detail = fmt.Sprintf("revoked %s across %s (%s) with their access and refresh tokens", plural(matched, "consent session"), plural(len(clients), "client"), strings.Join(sortedKeys(clients), ", "))
		if loginEnded {
			res.Detail += "; SSO login sessions ended (forces a new login)"
		}
	}
	switch {
	case matched > 0:
		res.StillValid = p.stillValid(ctx, sortedKeys(clients), read)
	case req.Client != "":
		res.StillValid = p.stillValid(ctx, []string{req.Client}, read)
	}
	return res, nil
}

// unlisted is what an empty listing means after the revocation was sent
// anyway: hidden sessions lost their tokens, and a wrong subject looks
// exactly like a subject without sessions.
const unlisted = "the revocation was sent anyway, so sessions the listing leaves out (remembered consent timed out, refresh tokens still valid) were revoked too. " +
	"Hydra keeps no user directory and answers the same for a subject it has never seen: check the subject is spelt exactly as the login provider sent it"

// stillValid says how long access tokens issued to these clients may still
// be accepted. Revoking a consent makes Hydra's introspection answer
// inactive at once, but a JWT access token (strategies.access_token=jwt or
// the client's access_token_strategy) is checked offline by many resource
// servers and lives until exp. A lookup failure leaves the answer empty
// (unknown) rather than failing a revocation that already happened.
// Clients already read are taken from read.
func (p *Provider) stillValid(ctx context.Context, clients []string, read map[string]*client) string {
	if len(clients) == 0 || len(clients) > stillValidLookups {
		return ""
	}
	var longest time.Duration
	allOpaque := true
	for _, id := range clients {
		c, ok := read[id]
		if !ok {
			var err error
			if c, err = p.readClient(ctx, id); err != nil {
				return ""
			}
		}
		if c.strategy == "opaque" {
			continue
		}
		allOpaque = false
		access := c.group(accessGroup)
		if access.anyNull || len(access.values) == 0 {
			return ""
		}
		if access.max > longest {
			longest = access.max
		}
	}
	if allOpaque {
		return "only where they are not introspected: the clients use opaque access tokens, which Hydra's introspection reports inactive at once"
	}
	who := "the client's access token lifespan"
	if len(clients) > 1 {
		who = "the longest access token lifespan of those clients"
	}
	return fmt.Sprintf("up to %s (%s; JWT access tokens stay valid until they expire)", durations.Format(longest), who)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
