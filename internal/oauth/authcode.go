package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// AuthCodeOptions configure an interactive authorization code login.
type AuthCodeOptions struct {
	TokenOptions
	// RedirectURI is an exact loopback redirect URI registered at the IdP,
	// for IdPs that do not ignore the port (RFC 8252 §7.3 says they should).
	RedirectURI string
	// RedirectPort fixes the port of the default http://127.0.0.1:PORT/callback.
	RedirectPort int
	Prompt       string
	LoginHint    string
	// Show receives the authorization URL once the listener is ready; it
	// opens a browser or prints the URL.
	Show func(authURL string) error
	// Timeout bounds the wait for the user; default 5 minutes.
	Timeout time.Duration
	// PAR pushes the request (RFC 9126) even when the IdP does not
	// require it.
	PAR bool
	// RequestObject signs the request (RFC 9101) with SignRequest even
	// when the IdP does not require it.
	RequestObject bool
	SignRequest   RequestSigner
	// Warn is told about callbacks that were ignored; nil ignores quietly.
	Warn func(msg string)
}

// AuthCodeResult is the token plus what the caller needs to verify the ID
// token (OIDC Core §3.1.3.7: the nonce must match).
type AuthCodeResult struct {
	Token *Token
	// Nonce is the nonce sent with the authorization request, or "" when
	// none was (a request without the openid scope): only a nonce that was
	// sent can be demanded back.
	Nonce string
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// PKCE returns an RFC 7636 verifier (43 characters from 32 random bytes,
// §4.1) and its S256 challenge (§4.2). S256 only: plain is never used
// (RFC 9700 §2.1.1).
func PKCE() (verifier, challenge string) {
	verifier = randomString(32)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// listenLoopback opens the redirect listener. RFC 8252 §7.3 and §8.3: use
// the loopback IP literal, not "localhost", with a port chosen by the OS.
func listenLoopback(o AuthCodeOptions) (net.Listener, string, string, error) {
	if o.RedirectURI != "" {
		u, err := url.Parse(o.RedirectURI)
		if err != nil || u.Scheme != "http" || !httpx.IsLoopbackHost(u.Hostname()) || u.Port() == "" {
			return nil, "", "", errs.New(errs.KindUsage, "the redirect URI %q must be http on a loopback host with a port, e.g. http://127.0.0.1:8400/callback", o.RedirectURI)
		}
		host := u.Hostname()
		if host == "localhost" {
			host = "127.0.0.1"
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, u.Port()))
		if err != nil {
			return nil, "", "", errs.New(errs.KindUsage, "cannot listen on %s for the redirect: %v", u.Host, err)
		}
		path := u.Path
		if path == "" {
			path = "/"
		}
		return ln, o.RedirectURI, path, nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.RedirectPort)))
	if err != nil {
		return nil, "", "", errs.New(errs.KindUsage, "cannot listen on 127.0.0.1:%d for the redirect: %v", o.RedirectPort, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return ln, fmt.Sprintf("http://127.0.0.1:%d/callback", port), "/callback", nil
}

type callbackResult struct {
	code string
	err  error
}

// AuthorizationCode runs the RFC 6749 §4.1 flow with PKCE through the
// user's browser and a loopback redirect.
func (c *Client) AuthorizationCode(ctx context.Context, o AuthCodeOptions) (*AuthCodeResult, error) {
	authEndpoint, err := c.endpoint("authorization_endpoint", c.Metadata.AuthorizationEndpoint)
	if err != nil {
		return nil, err
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	ln, redirectURI, path, err := listenLoopback(o)
	if err != nil {
		return nil, err
	}
	defer ln.Close()

	verifier, challenge := PKCE()
	state := randomString(24)
	nonce := ""
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {c.ClientID},
		"redirect_uri":          {redirectURI},
		"state":                 {state},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	if len(o.Scopes) > 0 {
		q.Set("scope", strings.Join(o.Scopes, " "))
	}
	if hasScope(o.Scopes, "openid") {
		nonce = randomString(24)
		q.Set("nonce", nonce)
	}
	if o.Audience != "" {
		q.Set("audience", o.Audience)
	}
	for _, r := range o.Resources {
		q.Add("resource", r)
	}
	if o.Prompt != "" {
		q.Set("prompt", o.Prompt)
	}
	if o.LoginHint != "" {
		q.Set("login_hint", o.LoginHint)
	}
	if o.AuthorizationDetails != "" {
		q.Set("authorization_details", o.AuthorizationDetails)
	}
	if c.DPoP.Active() {
		// RFC 9449 §10: bind the code to the key that will redeem it.
		signer, err := c.DPoP.key(ctx)
		if err != nil {
			return nil, err
		}
		q.Set("dpop_jkt", signer.Thumbprint())
	}
	authURL, err := c.authorizationURL(ctx, authEndpoint, q, o)
	if err != nil {
		return nil, err
	}

	results := make(chan callbackResult, 1)
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler:           c.callbackHandler(path, state, results, o.Warn),
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()

	if o.Show != nil {
		if err := o.Show(authURL); err != nil {
			return nil, err
		}
	}
	waitCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var res callbackResult
	select {
	case res = <-results:
	case <-waitCtx.Done():
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, errs.New(errs.KindInterrupted, "login cancelled")
		}
		return nil, errs.New(errs.KindLoginRequired, "no answer from the browser within %s; run the login again", o.Timeout)
	}
	if res.err != nil {
		return nil, res.err
	}
	t, err := c.ExchangeCode(ctx, res.code, verifier, redirectURI)
	if err != nil {
		return nil, err
	}
	return &AuthCodeResult{Token: t, Nonce: nonce}, nil
}

// callbackHandler checks the authorization response (RFC 6749 §4.1.2):
// state against CSRF (§10.12), iss against mix-up (RFC 9207 §2.4).
//
// A response with the wrong state is ignored rather than ending the login:
// any local process can send one to the listener, and letting it fail the
// login would let it deny every login. The real response may still come.
func (c *Client) callbackHandler(path, state string, results chan<- callbackResult, warn func(string)) http.Handler {
	deliver := func(r callbackResult) {
		select {
		case results <- r:
		default:
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("state") == "" && q.Get("code") == "" && q.Get("error") == "" {
			http.Error(w, "not an authorization response", http.StatusBadRequest)
			return
		}
		if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
			writePage(w, http.StatusBadRequest, "Not this login", "The response did not carry the state this login sent; it was ignored. Finish the login in the browser window idpctl opened.")
			if warn != nil {
				warn("warning: ignored a response on the redirect listener with the wrong state; it may be forged (RFC 6749 §10.12); still waiting for the real one")
			}
			return
		}
		iss := q.Get("iss")
		if iss != "" || c.Metadata.AuthorizationResponseIssParameterSupported {
			if iss != c.Metadata.Issuer {
				writePage(w, http.StatusBadRequest, "Login failed", "The response came from another issuer.")
				deliver(callbackResult{err: errs.New(errs.KindRefused, "the authorization response names the issuer %q, not %q (RFC 9207): refusing it", clean(iss, 200), c.Metadata.Issuer)})
				return
			}
		}
		if e := q.Get("error"); e != "" {
			writePage(w, http.StatusOK, "Login failed", "The identity provider answered: "+e)
			oe := &Error{Code: clean(e, 64), Description: clean(q.Get("error_description"), 300), Endpoint: "the authorization endpoint"}
			kind := errs.KindRefused
			if oe.Code == "login_required" || oe.Code == "interaction_required" || oe.Code == "consent_required" {
				kind = errs.KindLoginRequired
			}
			deliver(callbackResult{err: errs.Wrap(kind, oe)})
			return
		}
		code := q.Get("code")
		if code == "" {
			writePage(w, http.StatusBadRequest, "Login failed", "The response carried no code.")
			deliver(callbackResult{err: errs.New(errs.KindRefused, "the authorization response carried no code")})
			return
		}
		writePage(w, http.StatusOK, "Login complete", "You can close this window and return to the terminal.")
		deliver(callbackResult{code: code})
	})
}

func writePage(w http.ResponseWriter, status int, title, body string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>idpctl: %s</title><h1>%s</h1><p>%s</p>", html.EscapeString(title), html.EscapeString(title), html.EscapeString(body))
}

// hasScope looks through each value as a space-separated list too, so a
// caller passing "openid profile" as one value still gets a nonce.
func hasScope(scopes []string, s string) bool {
	for _, x := range scopes {
		for _, y := range strings.Fields(x) {
			if y == s {
				return true
			}
		}
	}
	return false
}
