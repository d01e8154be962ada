// Package refresh implements `idpctl token refresh`.
package refresh

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/tokens"
	"github.com/idpctl/idpctl/internal/ui"
)

// RefreshOptions are the inputs of token refresh.
type RefreshOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Now     func() time.Time

	IfDue   bool
	RenewAt string
	Scopes  []string
	Output  string
}

// NewCmdRefresh builds the command.
func NewCmdRefresh(f *cli.Factory, runF func(context.Context, *RefreshOptions) error) *cobra.Command {
	opts := &RefreshOptions{IO: f.IOStreams, Factory: f, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "refresh",
		Short: "Run the refresh_token grant now and report whether the refresh token rotated",
		Long: `Use the cached refresh token to get a new access token (RFC 6749 §6), store
whatever the IdP returns, and report whether it issued a new refresh token.

With --if-due the refresh only happens once the refresh token has used the
share of its life given by --renew-at (default 50%, the rule Cisco Unified CM
applies to Webex clients). That needs the IdP to have said how long the
refresh token lives (refresh_token_expires_in, as Webex sends); without it
--if-due says so and does nothing.`,
		Example: `  # Refresh now
  idpctl token refresh

  # From cron: renew only once half of the refresh token's life is used
  idpctl token refresh --if-due --renew-at 50%`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return refreshRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.IfDue, "if-due", false, "refresh only when the refresh token has used --renew-at of its life")
	cmd.Flags().StringVar(&opts.RenewAt, "renew-at", "50%", "share of the refresh token's life after which --if-due renews (percent or fraction)")
	cmd.Flags().StringSliceVar(&opts.Scopes, "scope", nil, "scopes to request, no broader than the original grant (default: the profile's)")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output: text or json")
	cmd.Flags().BoolVar(&f.Flags.DPoP, "dpop", false, cli.DPoPFlagUsage)
	return cmd
}

// ParseShare reads "50%" or "0.5".
func ParseShare(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, errs.New(errs.KindUsage, "--renew-at %q is not a percentage or fraction", s)
	}
	if pct || v > 1 {
		v /= 100
	}
	if v <= 0 || v > 1 {
		return 0, errs.New(errs.KindUsage, "--renew-at must be between 0%% and 100%%")
	}
	return v, nil
}

func refreshRun(ctx context.Context, opts *RefreshOptions) error {
	if opts.Output != "text" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose text or json", opts.Output)
	}
	share, err := ParseShare(opts.RenewAt)
	if err != nil {
		return err
	}
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	g, err := tokens.PrepareGrant(p, tokens.GrantOptions{}, opts.Scopes)
	if err != nil {
		return err
	}
	g.Flow = tokens.FlowRefresh
	svc, err := f.TokenService(ctx, p, g)
	if err != nil {
		return err
	}
	now := opts.Now()
	if opts.IfDue {
		rt, err := svc.LoadRefresh(ctx)
		if err != nil {
			return err
		}
		if rt == nil {
			return errs.New(errs.KindLoginRequired, "profile %q has no refresh token cached: run 'idpctl login --profile %s'", p.Name, p.Name)
		}
		due, known := tokens.RefreshDue(rt, now, share)
		if !known {
			return report(opts, p.Name, nil, "unknown", "the IdP did not say when the refresh token expires, so its share of life used is unknown; nothing done (run without --if-due to refresh)")
		}
		if !due {
			return report(opts, p.Name, nil, "not-due", fmt.Sprintf("the refresh token has used less than %.0f%% of its life (expires %s); nothing done", share*100, rt.ExpiresAt.Local().Format(time.RFC1123)))
		}
	}
	res, err := svc.Get(ctx, tokens.Request{Options: g.Options, Refresh: true, NoGrant: true})
	if err != nil {
		return err
	}
	status := "refreshed"
	return report(opts, p.Name, res, status, "")
}

func report(opts *RefreshOptions, profile string, res *tokens.Result, status, note string) error {
	if opts.Output == "json" {
		doc := map[string]any{"profile": profile, "status": status}
		if note != "" {
			doc["note"] = note
		}
		if res != nil {
			doc["refresh_token_rotated"] = res.Rotated
			if !res.Token.ExpiresAt.IsZero() {
				doc["expires_at"] = res.Token.ExpiresAt.UTC().Format(time.RFC3339)
				doc["expires_in"] = int64(res.Token.ExpiresAt.Sub(opts.Now()).Seconds())
			}
			if res.Refresh != nil && !res.Refresh.ExpiresAt.IsZero() {
				doc["refresh_token_expires_at"] = res.Refresh.ExpiresAt.UTC().Format(time.RFC3339)
			}
		}
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	p := ui.New(opts.IO.ErrOut, opts.IO.ColorEnabledStderr())
	if res == nil {
		p.Printf("%s\n", note)
		return nil
	}
	rotated := "no: the IdP kept the same refresh token"
	if res.Rotated {
		rotated = "yes: the new refresh token is stored"
	}
	pairs := []ui.Pair{{Key: "profile", Value: profile}, {Key: "status", Value: p.Success(status)}, {Key: "rotated", Value: rotated}}
	if !res.Token.ExpiresAt.IsZero() {
		pairs = append(pairs, ui.Pair{Key: "access token expires", Value: fmt.Sprintf("%s (in %s)", res.Token.ExpiresAt.Local().Format(time.RFC1123), res.Token.ExpiresAt.Sub(opts.Now()).Round(time.Second))})
	}
	if res.Refresh != nil && !res.Refresh.ExpiresAt.IsZero() {
		pairs = append(pairs, ui.Pair{Key: "refresh token expires", Value: res.Refresh.ExpiresAt.Local().Format(time.RFC1123)})
	}
	p.KeyValues(pairs)
	return nil
}
