// Package ciassert reads the identity tokens that CI systems and
// orchestrators issue to a job (a Kubernetes projected service account
// token, GitLab's id_tokens, the GitHub Actions OIDC token), so that a job
// can authenticate to an IdP that trusts their issuer without holding a
// client secret: as a client assertion (RFC 7523 §2.2) or as the subject
// token of a token exchange (RFC 8693 §2.1).
//
// These tokens are secrets: they never appear in error text, and the
// runtime's request token is redacted from the debug trace.
package ciassert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/jose"
)

// Source names accepted by --client-assertion-source and --subject-token-source.
const (
	SourceGitHubActions = "github-actions"
)

// Sources lists them for help and validation.
var Sources = []string{SourceGitHubActions}

// Environment variables the GitHub Actions runner sets in a job that has
// `permissions: id-token: write`.
const (
	EnvGitHubRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvGitHubRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
)

// maxTokenFile bounds what is read from a token file: CI identity tokens
// are a few kilobytes; anything much larger is the wrong file.
const maxTokenFile = 64 << 10

// Source produces a fresh third-party JWT each time it is asked.
type Source interface {
	// Token returns the JWT. It is called for every request, because the
	// files rotate (kubelet refreshes a projected token at 80% of its
	// life) and the Actions runtime issues short-lived tokens.
	Token(ctx context.Context) (string, error)
	// Describe names the source for messages, never the token.
	Describe() string
}

// File reads a JWT that something else keeps up to date in a file.
type File struct {
	Path string
	// What names the token in messages ("client assertion").
	What string
}

func (f File) Describe() string { return fmt.Sprintf("the %s file %s", f.What, f.Path) }

func (f File) Token(context.Context) (string, error) {
	fh, err := os.Open(f.Path)
	if err != nil {
		return "", errs.New(errs.KindUsage, "reading the %s: %w", f.What, pathError(err))
	}
	defer fh.Close()
	raw, err := io.ReadAll(io.LimitReader(fh, maxTokenFile+1))
	if err != nil {
		return "", errs.New(errs.KindUsage, "reading the %s: %w", f.What, pathError(err))
	}
	if len(raw) > maxTokenFile {
		return "", errs.New(errs.KindUsage, "%s is larger than %d KiB: not a token", f.Describe(), maxTokenFile>>10)
	}
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "", errs.New(errs.KindUsage, "%s is empty", f.Describe())
	}
	return s, nil
}

// pathError keeps the operating system's reason and the path, nothing read.
func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// GitHubActions asks the Actions runtime for an OIDC ID token with the
// given audience (GitHub docs, "About security hardening with OpenID
// Connect": GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with
// "Authorization: Bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN", answer
// {"value": "<jwt>"}).
type GitHubActions struct {
	HTTP     *httpx.Client
	Getenv   func(string) string
	Audience string
	What     string
}

func (g GitHubActions) Describe() string { return "the GitHub Actions ID token" }

func (g GitHubActions) Token(ctx context.Context) (string, error) {
	rawURL, bearer := g.Getenv(EnvGitHubRequestURL), g.Getenv(EnvGitHubRequestToken)
	if rawURL == "" || bearer == "" {
		return "", errs.New(errs.KindUsage, "the %s source %s needs %s and %s, which the runner sets only in a job with 'permissions: id-token: write'", g.What, SourceGitHubActions, EnvGitHubRequestURL, EnvGitHubRequestToken)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "", errs.New(errs.KindUsage, "%s is not a URL", EnvGitHubRequestURL)
	}
	q := u.Query()
	if g.Audience != "" {
		q.Set("audience", g.Audience)
	}
	u.RawQuery = q.Encode()
	resp, err := g.HTTP.Do(ctx, httpx.Request{
		Method:     http.MethodGet,
		URL:        u.String(),
		Header:     http.Header{"Authorization": {"Bearer " + bearer}, "Accept": {"application/json"}},
		Secrets:    []string{bearer},
		Idempotent: true,
	})
	if err != nil {
		return "", fmt.Errorf("requesting the GitHub Actions ID token: %w", err)
	}
	switch {
	case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
		return "", errs.New(errs.KindRefused, "the GitHub Actions runtime refused the ID token request (HTTP %d): the job needs 'permissions: id-token: write', and %s must be the one the runner set", resp.Status, EnvGitHubRequestToken)
	case resp.Status != http.StatusOK:
		return "", errs.New(errs.KindNetwork, "the GitHub Actions runtime answered HTTP %d to the ID token request", resp.Status)
	}
	var body struct {
		Value string `json:"value"`
	}
	if err := httpx.DecodeJSON(resp, &body); err != nil {
		return "", errs.Wrap(errs.KindNetwork, fmt.Errorf("reading the GitHub Actions ID token answer: %w", err))
	}
	if strings.TrimSpace(body.Value) == "" {
		return "", errs.New(errs.KindNetwork, "the GitHub Actions runtime answered without a token (no \"value\")")
	}
	return strings.TrimSpace(body.Value), nil
}

// Check refuses, before anything is sent, a token that cannot be a usable
// JWT assertion: not a compact JWS (exit 2, a wrong file or variable), an
// unsecured one, one without exp (RFC 7523 §3 item 4), or one whose exp has
// passed. An expired token is refused with the kind the IdP's own
// invalid_client would carry (exit 4): the configuration is right, the
// credential is stale, and a script handles both alike. No leeway is
// granted: a token already past exp by our clock is not worth sending.
func Check(token, describe string, now time.Time) error {
	d, err := jose.Decode(token)
	if err != nil {
		var te *jose.TokenError
		if errors.As(err, &te) && errors.Is(te.Reason, jose.ErrEncrypted) {
			// A nested JWT (RFC 7519 §5.2) cannot be read here; the IdP judges it.
			return nil
		}
		return errs.New(errs.KindUsage, "%s does not hold a JWT: %w", describe, err)
	}
	if alg, _ := d.Header["alg"].(string); alg == "" || strings.EqualFold(alg, "none") {
		return errs.New(errs.KindUsage, "%s holds an unsigned JWT (alg %q)", describe, alg)
	}
	exp, ok := numericDate(d.Claims["exp"])
	if !ok {
		return errs.New(errs.KindUsage, "%s holds a JWT without a valid exp claim (RFC 7523 §3 requires one)", describe)
	}
	if !now.Before(exp) {
		return errs.New(errs.KindRefused, "%s holds a JWT that expired at %s (%s ago); the CI system must write a fresh one", describe, exp.UTC().Format(time.RFC3339), now.Sub(exp).Round(time.Second))
	}
	return nil
}

func numericDate(v any) (time.Time, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// Checked wraps a source so that every token it returns is checked first.
func Checked(ctx context.Context, s Source, now time.Time) (string, error) {
	tok, err := s.Token(ctx)
	if err != nil {
		return "", err
	}
	if err := Check(tok, s.Describe(), now); err != nil {
		return "", err
	}
	return tok, nil
}

// ValidateSource refuses an unknown source name.
func ValidateSource(name, flag string) error {
	for _, s := range Sources {
		if s == name {
			return nil
		}
	}
	return errs.New(errs.KindUsage, "unknown %s %q: choose %s, or give a file", flag, name, strings.Join(Sources, ", "))
}
