// Package inspect implements `idpctl token inspect`.
package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/ui"
)

// InspectOptions are the inputs of token inspect.
type InspectOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Now     func() time.Time

	Token      string
	TokenFile  string
	IDToken    bool
	Introspect bool
	NoVerify   bool
	Audience   string
	Leeway     time.Duration
	Hint       string
	Output     string
}

// NewCmdInspect builds the command.
func NewCmdInspect(f *cli.Factory, runF func(context.Context, *InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{IO: f.IOStreams, Factory: f, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "inspect [-]",
		Short: "Decode a token, verify its signature against the IdP's keys, or ask the IdP about it",
		Long: `Show what a token says and whether it holds.

A JWT is decoded (header and claims, issue and expiry times in local time and
UTC, time left) and its signature verified against the IdP's published keys
(found by discovery): the algorithm must fit the key, and exp, nbf, iat and
iss are checked. --introspect asks the IdP's RFC 7662 endpoint as well, which
is the only way to learn about an opaque token or whether a JWT was revoked.

Without an argument the profile's cached access token is inspected
(--id-token for the cached ID token). Pass - to read a token from stdin, or
--token-file FILE. A token given as an argument still works but is visible in
the process list, so it draws a warning. Exit status 0 means the token verified
(and, with --introspect, the IdP said active); otherwise 1, with the reason.`,
		Example: `  # The cached token of the current profile
  idpctl token inspect

  # A token from a file, with the IdP's own opinion
  idpctl token inspect --introspect --token-file token.txt

  # A token from another command
  idpctl token get | idpctl token inspect -

  # Claims as JSON for jq
  idpctl token inspect -o json | jq .claims`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				opts.Token = args[0]
				if opts.Token != "-" {
					fmt.Fprintln(opts.IO.ErrOut, cli.ArgTokenWarning)
				}
			}
			if err := cli.CheckTokenInput(opts.Token, opts.TokenFile); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return inspectRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.TokenFile, "token-file", "", "read the token to inspect from FILE (- for stdin)")
	fl.BoolVar(&opts.IDToken, "id-token", false, "inspect the profile's cached ID token instead of the access token")
	fl.BoolVar(&opts.Introspect, "introspect", false, "also ask the IdP's introspection endpoint (RFC 7662), with the profile's client credentials")
	fl.BoolVar(&opts.NoVerify, "no-verify", false, "decode only; do not fetch the IdP's keys")
	fl.StringVar(&opts.Audience, "audience", "", "require this audience in the token's aud")
	fl.DurationVar(&opts.Leeway, "leeway", jose.DefaultLeeway, "clock skew tolerated when checking exp, nbf and iat")
	fl.StringVar(&opts.Hint, "hint", "", "token_type_hint for --introspect: access_token or refresh_token")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output: text or json")
	cmd.Flags().BoolVar(&f.Flags.DPoP, "dpop", false, cli.DPoPFlagUsage)
	return cmd
}

// Report is the JSON form of an inspection.
type Report struct {
	Format        string         `json:"format"`
	Header        map[string]any `json:"header,omitempty"`
	Claims        map[string]any `json:"claims,omitempty"`
	IssuedAt      string         `json:"issued_at,omitempty"`
	ExpiresAt     string         `json:"expires_at,omitempty"`
	ExpiresIn     *int64         `json:"expires_in,omitempty"`
	Signature     *Signature     `json:"signature,omitempty"`
	Introspection map[string]any `json:"introspection,omitempty"`
	// DPoP is the token's key binding (RFC 9449 §6), when it has one.
	DPoP *Binding `json:"dpop,omitempty"`
	// AuthorizationDetails are the RFC 9396 details the token carries.
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
	Valid                bool            `json:"valid"`
	Problems             []string        `json:"problems,omitempty"`
}

// Binding is a DPoP-bound token's cnf.jkt and whether the profile holds
// that key.
type Binding struct {
	Jkt             string `json:"jkt"`
	ProfileKeyJkt   string `json:"profile_key_jkt,omitempty"`
	ProfileHoldsKey bool   `json:"profile_holds_key"`
}

// Signature is the verification outcome.
type Signature struct {
	Verified  bool   `json:"verified"`
	KeyID     string `json:"kid,omitempty"`
	Algorithm string `json:"alg,omitempty"`
	Error     string `json:"error,omitempty"`
}

func inspectRun(ctx context.Context, opts *InspectOptions) error {
	if opts.Output != "text" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose text or json", opts.Output)
	}
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	token, cached, err := opts.readToken(ctx, p)
	if err != nil {
		return err
	}
	now := opts.Now()
	rep := &Report{Format: "opaque", Valid: true}
	var client *oauth.Client
	getClient := func() (*oauth.Client, error) {
		if client != nil {
			return client, nil
		}
		c, err := f.OAuthClient(ctx, p)
		client = c
		return c, err
	}

	switch jose.Classify(token) {
	case jose.FormJWE:
		rep.Format = "jwe"
		if d, _ := jose.Decode(token); d != nil {
			rep.Header = d.Header
		}
		rep.Problems = append(rep.Problems, "encrypted token (JWE): its claims cannot be read without the IdP's key")
	case jose.FormJWS:
		rep.Format = "jwt"
		d, err := jose.Decode(token)
		if err != nil {
			return errs.New(errs.KindUsage, "decoding the token: %w", err)
		}
		rep.Header, rep.Claims = d.Header, d.Claims
		if t, ok := numericDate(d.Claims["iat"]); ok {
			rep.IssuedAt = t.UTC().Format(time.RFC3339)
		}
		if t, ok := numericDate(d.Claims["exp"]); ok {
			rep.ExpiresAt = t.UTC().Format(time.RFC3339)
			// In seconds from the Unix times: a Duration saturates after
			// 292 years.
			left := t.Unix() - now.Unix()
			rep.ExpiresIn = &left
		}
		if !opts.NoVerify {
			rep.Signature = &Signature{}
			c, err := getClient()
			if err != nil {
				return err
			}
			if c.Metadata.JWKSURI == "" {
				rep.Signature.Error = "the IdP publishes no jwks_uri"
				rep.Valid = false
			} else {
				v, err := jose.Verify(ctx, token, oauth.JWKS(c.HTTP, c.Metadata.JWKSURI), jose.VerifyOptions{
					Issuer: p.Issuer, Audience: opts.Audience, Leeway: leewayFor(opts.Leeway), Now: opts.Now,
				})
				if err != nil {
					var te *jose.TokenError
					if !errors.As(err, &te) {
						return err // could not fetch keys: a network error, not a verdict
					}
					rep.Signature.Error = err.Error()
					rep.Valid = false
					rep.Problems = append(rep.Problems, err.Error())
				} else {
					rep.Signature.Verified = true
					rep.Signature.KeyID, rep.Signature.Algorithm = v.KeyID, v.Algorithm
				}
			}
		}
	default:
		if !opts.Introspect {
			rep.Problems = append(rep.Problems, "opaque token: only the IdP can tell what it is; use --introspect")
		}
	}

	if opts.Introspect {
		c, err := getClient()
		if err != nil {
			return err
		}
		in, err := c.Introspect(ctx, token, opts.Hint)
		if err != nil {
			return err
		}
		rep.Introspection = in.Raw
		if !in.Active {
			rep.Valid = false
			rep.Problems = append(rep.Problems, "the IdP says the token is not active (revoked, expired or unknown)")
		}
		if rep.ExpiresAt == "" && in.Exp > 0 {
			t := time.Unix(in.Exp, 0)
			rep.ExpiresAt = t.UTC().Format(time.RFC3339)
			left := int64(t.Sub(now).Seconds())
			rep.ExpiresIn = &left
		}
	}
	if err := opts.binding(ctx, p, rep, cached); err != nil {
		return err
	}
	if rep.Format == "opaque" && !opts.Introspect || rep.Format == "jwe" {
		rep.Valid = false
	}
	if rep.Format == "jwt" && opts.NoVerify && !opts.Introspect {
		rep.Valid = false
		rep.Problems = append(rep.Problems, "not verified (--no-verify)")
	}

	if err := write(opts, rep, now); err != nil {
		return err
	}
	if !rep.Valid {
		return errs.New(errs.KindUnknown, "the token is not valid: %s", strings.Join(rep.Problems, "; "))
	}
	return nil
}

// readToken returns the token to inspect and, for the cached access token,
// its cache record.
func (opts *InspectOptions) readToken(ctx context.Context, p *config.Resolved) (string, *credstore.AccessToken, error) {
	if opts.TokenFile != "" {
		tok, err := opts.Factory.ReadTokenFile(opts.TokenFile)
		return tok, nil, err
	}
	switch opts.Token {
	case "-":
		raw, err := opts.IO.ReadAllIn(1 << 20)
		if err != nil {
			return "", nil, errs.New(errs.KindUsage, "reading the token from stdin: %w", err)
		}
		s := strings.TrimSpace(string(raw))
		if s == "" {
			return "", nil, errs.New(errs.KindUsage, "no token on stdin")
		}
		return s, nil, nil
	case "":
		store, err := opts.Factory.Store()
		if err != nil {
			return "", nil, err
		}
		var at credstore.AccessToken
		if err := credstore.LoadJSON(ctx, store, p.Name, credstore.KindAccessToken, &at); err != nil {
			if errors.Is(err, credstore.ErrNotFound) {
				return "", nil, errs.New(errs.KindLoginRequired, "profile %q has no cached token: pass one, or run 'idpctl token get' first", p.Name)
			}
			return "", nil, err
		}
		if opts.IDToken {
			if at.IDToken == "" {
				return "", nil, errs.New(errs.KindLoginRequired, "profile %q has no cached ID token (it comes from an openid login)", p.Name)
			}
			return at.IDToken, nil, nil
		}
		return at.AccessToken, &at, nil
	default:
		return opts.Token, nil, nil
	}
}

// binding fills in the token's DPoP key binding and authorization details
// from its claims, the introspection answer or the cache record, in that
// order of trust.
func (opts *InspectOptions) binding(ctx context.Context, p *config.Resolved, rep *Report, cached *credstore.AccessToken) error {
	jkt := cnfJkt(rep.Claims)
	if jkt == "" {
		jkt = cnfJkt(rep.Introspection)
	}
	if jkt == "" && cached != nil {
		jkt = cached.DPoPJkt
	}
	for _, src := range []map[string]any{rep.Claims, rep.Introspection} {
		if ad, ok := src["authorization_details"]; ok && len(rep.AuthorizationDetails) == 0 {
			if raw, err := json.Marshal(ad); err == nil {
				rep.AuthorizationDetails = raw
			}
		}
	}
	if len(rep.AuthorizationDetails) == 0 && cached != nil && len(cached.AuthorizationDetails) > 0 {
		rep.AuthorizationDetails = cached.AuthorizationDetails
	}
	if jkt == "" {
		return nil
	}
	own, err := opts.Factory.DPoPThumbprint(ctx, p)
	if err != nil {
		return err
	}
	rep.DPoP = &Binding{Jkt: jkt, ProfileKeyJkt: own, ProfileHoldsKey: own == jkt}
	return nil
}

// cnfJkt reads the RFC 9449 §6 confirmation of a claims set.
func cnfJkt(m map[string]any) string {
	cnf, _ := m["cnf"].(map[string]any)
	jkt, _ := cnf["jkt"].(string)
	return jkt
}

// maxNumericDate is the last second of year 9999: a NumericDate (RFC 7519
// §2) past it, or before 1970, is shown as the number it is, not as a
// time computed by overflowing arithmetic.
const maxNumericDate = 253402300799

func numericDate(v any) (time.Time, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return time.Time{}, false
		}
	case float64:
		f = n
	case int64:
		f = float64(n)
	default:
		return time.Time{}, false
	}
	if f != f || f < 0 || f > maxNumericDate {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

func write(opts *InspectOptions, rep *Report, now time.Time) error {
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	p := ui.New(opts.IO.Out, opts.IO.ColorEnabled())
	p.Println(p.Heading("Token") + "  " + rep.Format)
	if rep.Header != nil {
		p.Println(p.Heading("Header"))
		p.KeyValues(pairs(rep.Header))
	}
	if rep.Claims != nil {
		p.Println(p.Heading("Claims"))
		p.KeyValues(pairs(rep.Claims))
	}
	var times []ui.Pair
	for _, claim := range []string{"iat", "nbf", "exp", "auth_time"} {
		if t, ok := numericDate(rep.Claims[claim]); ok {
			times = append(times, ui.Pair{Key: claim, Value: localAndUTC(t) + "  " + relative(t, now)})
		}
	}
	if len(times) > 0 {
		p.Println(p.Heading("Times"))
		p.KeyValues(times)
	}
	if rep.Signature != nil {
		p.Println(p.Heading("Signature"))
		if rep.Signature.Verified {
			p.KeyValues([]ui.Pair{{Key: "verified", Value: p.Success("yes") + fmt.Sprintf(" (kid %s, %s)", rep.Signature.KeyID, rep.Signature.Algorithm)}})
		} else {
			p.KeyValues([]ui.Pair{{Key: "verified", Value: p.Failure("no") + ": " + rep.Signature.Error}})
		}
	}
	if rep.Introspection != nil {
		p.Println(p.Heading("Introspection (RFC 7662)"))
		p.KeyValues(pairs(rep.Introspection))
	}
	if rep.DPoP != nil {
		holds := p.Success("yes")
		if !rep.DPoP.ProfileHoldsKey {
			holds = p.Warning("no") + " (the token cannot be used from this profile)"
		}
		p.Println(p.Heading("DPoP binding (RFC 9449)"))
		p.KeyValues([]ui.Pair{{Key: "jkt", Value: rep.DPoP.Jkt}, {Key: "profile holds the key", Value: holds}})
	}
	if len(rep.AuthorizationDetails) > 0 {
		p.Println(p.Heading("Authorization details (RFC 9396)"))
		p.Println(string(rep.AuthorizationDetails))
	}
	for _, problem := range rep.Problems {
		p.Println(p.Warning("! ") + problem)
	}
	return nil
}

func relative(t, now time.Time) string {
	secs := t.Unix() - now.Unix()
	abs := secs
	if abs < 0 {
		abs = -abs
	}
	var span string
	switch {
	case abs >= 2*31557600:
		span = fmt.Sprintf("%d years", abs/31557600) // Julian years
	case abs >= 2*86400:
		span = fmt.Sprintf("%d days", abs/86400)
	default:
		span = (time.Duration(abs) * time.Second).String()
	}
	if secs >= 0 {
		return "in " + span
	}
	return span + " ago"
}

func pairs(m map[string]any) []ui.Pair {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ui.Pair, 0, len(keys))
	for _, k := range keys {
		out = append(out, ui.Pair{Key: k, Value: render(m[k])})
	}
	return out
}

func render(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// leewayFor maps the flag to jose's convention, where zero means the
// default: a user who types --leeway 0s means no leeway at all.
func leewayFor(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// localAndUTC is a time in local time and, unless local time is UTC (TZ=UTC
// on servers and in containers), in UTC as well: the same clock reading
// twice is noise.
func localAndUTC(t time.Time) string {
	local := t.Local()
	s := local.Format("2006-01-02 15:04:05 MST")
	if _, offset := local.Zone(); offset != 0 {
		s += "  (" + t.UTC().Format("2006-01-02 15:04:05") + " UTC)"
	}
	return s
}
