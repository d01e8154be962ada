package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// PagesByBody is Pages for vendors that put the next page's URL in the
// body rather than in a Link header (Microsoft Graph's @odata.nextLink):
// page returns that URL, or "" on the last page. The same-origin rule, the
// page cap and the loop check apply.
func (c *Client) PagesByBody(ctx context.Context, operation, path string, q url.Values, page func(*httpx.Response) (string, error)) error {
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = DefaultMaxPages
	}
	first, _ := url.Parse(c.URL(path))
	if len(q) > 0 {
		first.RawQuery = q.Encode()
	}
	current := first.String()
	seen := map[string]bool{current: true}
	for n := 1; ; n++ {
		resp, err := c.Call(ctx, operation, Req{Method: http.MethodGet, URL: current}, nil, http.StatusOK)
		if err != nil {
			return err
		}
		link, err := page(resp)
		if err != nil || link == "" {
			return err
		}
		next, ok, err := c.follow(current, link)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", c.Vendor, operation, err)
		}
		if !ok {
			return nil
		}
		if seen[next] {
			return errs.New(errs.KindNetwork, "%s: %s: the next-page link leads back to a page already read", c.Vendor, operation)
		}
		if n >= maxPages {
			return errs.New(errs.KindNetwork, "%s: %s: more than %d pages; the next links do not end", c.Vendor, operation, maxPages)
		}
		seen[next] = true
		current = next
	}
}
