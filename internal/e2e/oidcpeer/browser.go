package oidcpeer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	browserTimeout = 30 * time.Second
	maxHops        = 20
	bodyLimit      = 256 << 10
)

// browser is a cookie-keeping client standing in for the user's browser.
// Each flow gets a fresh one, so every flow logs in anew.
func (p *Peer) browser(followRedirects bool) (*http.Client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("cookie jar: %w", err)
	}
	tr, err := p.transport(false)
	if err != nil {
		return nil, err
	}
	c := &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second}
	if !followRedirects {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c, nil
}

// Authorize plays the browser for an authorization request: it follows
// authURL through the peer's auto-approving login and consent until the
// peer redirects off its own origin, then requests that redirect (the CLI's
// loopback listener) once. An OAuth error in the redirect is delivered like
// a code; only a broken flow fails the test. Call it from the test
// goroutine; FollowAuthorization is the variant for other goroutines.
func (p *Peer) Authorize(t testing.TB, authURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	if err := p.FollowAuthorization(ctx, authURL); err != nil {
		t.Fatalf("oidcpeer: authorize: %v", err)
	}
}

// FollowAuthorization is Authorize returning an error instead of failing
// the test.
func (p *Peer) FollowAuthorization(ctx context.Context, authURL string) error {
	issuer, err := url.Parse(p.Issuer)
	if err != nil {
		return fmt.Errorf("parse issuer: %w", err)
	}
	next, err := url.Parse(authURL)
	if err != nil {
		return fmt.Errorf("parse authorization url: %w", err)
	}
	if !sameOrigin(next, issuer) {
		return fmt.Errorf("authorization url is not at the issuer %s", p.Issuer)
	}
	client, err := p.browser(false)
	if err != nil {
		return err
	}
	for range maxHops {
		if !sameOrigin(next, issuer) {
			return deliverRedirect(ctx, client, next)
		}
		resp, err := get(ctx, client, next)
		if err != nil {
			return fmt.Errorf("get %s: %w", next.Path, err)
		}
		body := readSnippet(resp)
		if resp.StatusCode < 300 || resp.StatusCode >= 400 {
			return fmt.Errorf("flow stopped at %s with status %d: %s", next.Path, resp.StatusCode, short(body))
		}
		loc, err := resp.Location()
		if err != nil {
			return fmt.Errorf("redirect from %s: %w", next.Path, err)
		}
		next = loc
	}
	return fmt.Errorf("more than %d redirects", maxHops)
}

// deliverRedirect requests the redirect_uri, which carries the code, so
// errors name only its origin and path.
func deliverRedirect(ctx context.Context, client *http.Client, u *url.URL) error {
	where := u.Scheme + "://" + u.Host + u.Path
	if u.Scheme != "http" || !isLoopback(u.Hostname()) {
		return fmt.Errorf("redirect to %s is not a loopback redirect (RFC 8252 §7.3)", where)
	}
	resp, err := get(ctx, client, u)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("deliver redirect to %s: %w", where, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, bodyLimit))
	_ = resp.Body.Close()
	return nil
}

// ApproveDevice plays the user of the device flow (RFC 8628 §3.3): it opens
// the verification page, submits userCode with the form's xsrf token,
// confirms, and goes through the auto-approving login and consent until the
// peer reports success. Call it from the test goroutine; SubmitUserCode is
// the variant for other goroutines.
func (p *Peer) ApproveDevice(t testing.TB, userCode string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	if err := p.SubmitUserCode(ctx, userCode); err != nil {
		t.Fatalf("oidcpeer: approve device: %v", err)
	}
}

// SubmitUserCode is ApproveDevice returning an error instead of failing the
// test.
func (p *Peer) SubmitUserCode(ctx context.Context, userCode string) error {
	client, err := p.browser(true)
	if err != nil {
		return err
	}
	verification, err := url.Parse(p.Issuer + "/device")
	if err != nil {
		return fmt.Errorf("parse verification url: %w", err)
	}

	resp, err := get(ctx, client, verification)
	if err != nil {
		return fmt.Errorf("open verification page: %w", err)
	}
	page := readSnippet(resp)
	xsrf, err := formXSRF(resp.StatusCode, page)
	if err != nil {
		return fmt.Errorf("verification page: %w", err)
	}

	page, status, err := postForm(ctx, client, verification, url.Values{"xsrf": {xsrf}, "user_code": {userCode}})
	if err != nil {
		return fmt.Errorf("submit user code: %w", err)
	}
	if !strings.Contains(page, `name="confirm"`) {
		return fmt.Errorf("user code not accepted (status %d): %s", status, short(page))
	}
	if xsrf, err = formXSRF(status, page); err != nil {
		return fmt.Errorf("confirmation page: %w", err)
	}

	page, status, err = postForm(ctx, client, verification, url.Values{
		"xsrf": {xsrf}, "user_code": {userCode}, "confirm": {"yes"},
	})
	if err != nil {
		return fmt.Errorf("confirm device: %w", err)
	}
	if status != http.StatusOK || !strings.Contains(page, `id="e2e-device-success"`) {
		return fmt.Errorf("device flow did not succeed (status %d): %s", status, short(page))
	}
	return nil
}

func formXSRF(status int, page string) (string, error) {
	if status != http.StatusOK {
		return "", fmt.Errorf("status %d: %s", status, short(page))
	}
	m := regexp.MustCompile(`name="xsrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		return "", errors.New("no xsrf field in the form")
	}
	return m[1], nil
}

func get(ctx context.Context, client *http.Client, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}

func postForm(ctx context.Context, client *http.Client, u *url.URL, form url.Values) (string, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return "", 0, err
	}
	return readSnippet(resp), resp.StatusCode, nil
}

// readSnippet reads and closes a peer page; the peer's pages and error texts
// carry no secrets.
func readSnippet(resp *http.Response) string {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, bodyLimit))
	return strings.TrimSpace(string(b))
}

// short trims a page for an error message.
func short(page string) string {
	const max = 400
	if len(page) > max {
		return page[:max] + "…"
	}
	return page
}

func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && a.Host == b.Host
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
