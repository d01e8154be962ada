package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// FollowAuthorization plays the browser for a login against this sandbox:
// it requests the authorization URL and follows the redirects, through the
// sandbox's login step, which approves at once, to the client's loopback
// redirect URI. Only loopback URLs are followed, so it cannot be pointed
// elsewhere.
func (s *Server) FollowAuthorization(ctx context.Context, authURL string) error {
	return s.FollowAuthorizationAs(ctx, authURL, "")
}

// FollowAuthorizationAs is FollowAuthorization logging in as user (one of
// Users), as if the user had typed their name on a login page.
func (s *Server) FollowAuthorizationAs(ctx context.Context, authURL, user string) error {
	client := &http.Client{
		Timeout: 10 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("too many redirects")
			}
			if !isLoopbackURL(req.URL) {
				return fmt.Errorf("refusing to follow a redirect to %s", req.URL.Host)
			}
			if user != "" && req.URL.Path == pathLogin {
				q := req.URL.Query()
				q.Set("user", user)
				req.URL.RawQuery = q.Encode()
			}
			return nil
		},
	}
	u, err := url.Parse(authURL)
	if err != nil || !isLoopbackURL(u) {
		return errors.New("the authorization URL is not on loopback")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("following the authorization URL: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the redirect target answered HTTP %d", resp.StatusCode)
	}
	return nil
}

func isLoopbackURL(u *url.URL) bool {
	return u.Scheme == "http" && isLoopbackHost(u.Hostname())
}
