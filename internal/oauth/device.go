package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// DeviceAuth is the device authorization response (RFC 8628 §3.2).
type DeviceAuth struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete,omitempty"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval,omitempty"`
	// Some IdPs (older Google) say verification_url.
	VerificationURL string `json:"verification_url,omitempty"`

	ExpiresAt time.Time `json:"-"`
}

// StartDevice asks for a device code (RFC 8628 §3.1).
func (c *Client) StartDevice(ctx context.Context, o TokenOptions) (*DeviceAuth, error) {
	endpoint, err := c.endpoint("device_authorization_endpoint", c.Metadata.DeviceAuthorizationEndpoint)
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	o.apply(form)
	resp, err := c.post(ctx, endpoint, form, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("device authorization: %w", responseError("device authorization", resp))
	}
	if err := okError("device authorization", resp); err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	var d DeviceAuth
	if err := httpx.DecodeJSON(resp, &d); err != nil {
		return nil, fmt.Errorf("device authorization: %w", err)
	}
	if d.VerificationURI == "" {
		d.VerificationURI = d.VerificationURL
	}
	if d.DeviceCode == "" || d.UserCode == "" || d.VerificationURI == "" {
		return nil, errs.New(errs.KindNetwork, "the device authorization response lacks device_code, user_code or verification_uri")
	}
	if d.ExpiresIn <= 0 {
		d.ExpiresIn = 600
	}
	// RFC 8628 §3.2: the default polling interval is 5 seconds.
	if d.Interval <= 0 {
		d.Interval = 5
	}
	d.ExpiresAt = c.now().Add(time.Duration(d.ExpiresIn) * time.Second)
	return &d, nil
}

// PollDevice polls the token endpoint until the user approves, denies, or
// the code expires (RFC 8628 §3.4, §3.5). sleep waits and honours ctx.
func (c *Client) PollDevice(ctx context.Context, d *DeviceAuth, sleep func(context.Context, time.Duration) error) (*Token, error) {
	interval := time.Duration(d.Interval) * time.Second
	form := url.Values{
		"grant_type":  {"urn:ietf:params:oauth:grant-type:device_code"},
		"device_code": {d.DeviceCode},
	}
	for {
		if err := sleep(ctx, interval); err != nil {
			if errors.Is(err, context.Canceled) {
				// Ctrl-C or a signal: say so in the person's words.
				return nil, errs.New(errs.KindInterrupted, "interrupted while waiting for the device login to be approved; nothing was stored")
			}
			return nil, errs.Wrap(errs.KindInterrupted, fmt.Errorf("waiting for device approval: %w", err))
		}
		if !c.now().Before(d.ExpiresAt) {
			return nil, errs.New(errs.KindLoginRequired, "the device code expired before it was approved; start again")
		}
		t, err := c.tokenRequest(ctx, form, false, d.DeviceCode)
		if err == nil {
			return t, nil
		}
		var oe *Error
		if !errors.As(err, &oe) {
			return nil, fmt.Errorf("device grant: %w", err)
		}
		switch oe.Code {
		case "authorization_pending":
		case "slow_down":
			// §3.5: increase the interval by 5 seconds for this and all
			// subsequent requests.
			interval += 5 * time.Second
		case "access_denied":
			return nil, errs.New(errs.KindRefused, "the device login was denied")
		case "expired_token":
			return nil, errs.New(errs.KindLoginRequired, "the device code expired before it was approved; start again")
		default:
			return nil, fmt.Errorf("device grant: %w", err)
		}
	}
}

// VerificationText is what to tell the user, in one or two lines.
func (d *DeviceAuth) VerificationText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "To log in, open %s and enter the code %s", d.VerificationURI, d.UserCode)
	if d.VerificationURIComplete != "" {
		fmt.Fprintf(&b, "\n(or open %s)", d.VerificationURIComplete)
	}
	return b.String()
}
