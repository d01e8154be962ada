// Package list implements `idpctl token list`.
package list

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/ui"
)

// ListOptions are the inputs of token list.
type ListOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Now     func() time.Time
	Output  string
}

// NewCmdList builds the command.
func NewCmdList(f *cli.Factory, runF func(context.Context, *ListOptions) error) *cobra.Command {
	opts := &ListOptions{IO: f.IOStreams, Factory: f, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show what is cached per profile, never the secrets themselves",
		Long: `List every profile with what the credential store holds for it: the access
token's expiry and scope, whether a refresh token is cached and when it
expires, and whether a client secret or admin credential is stored. No token
or secret is ever printed.`,
		Example: `  idpctl token list
  idpctl token list -o json | jq '.[] | select(.access_token.expired)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return listRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output: table or json")
	return cmd
}

// Entry is one profile's cache, as JSON.
type Entry struct {
	Profile         string        `json:"profile"`
	Issuer          string        `json:"issuer,omitempty"`
	AccessToken     *AccessEntry  `json:"access_token,omitempty"`
	RefreshToken    *RefreshEntry `json:"refresh_token,omitempty"`
	ClientSecret    bool          `json:"client_secret_stored"`
	AdminCredential bool          `json:"admin_credential_stored"`
	// StoreError says why the profile's own store could not be read (a
	// keychain absent on this machine, for a profile kept there).
	StoreError string `json:"store_error,omitempty"`
}

// AccessEntry describes a cached access token without its value.
type AccessEntry struct {
	ExpiresAt string `json:"expires_at,omitempty"`
	ExpiresIn int64  `json:"expires_in,omitempty"`
	Expired   bool   `json:"expired"`
	Scope     string `json:"scope,omitempty"`
}

// RefreshEntry describes a cached refresh token without its value.
type RefreshEntry struct {
	IssuedAt  string `json:"issued_at,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

func listRun(ctx context.Context, opts *ListOptions) error {
	if opts.Output != "table" && opts.Output != "json" {
		return errs.New(errs.KindUsage, "unknown output %q: choose table or json", opts.Output)
	}
	f := opts.Factory
	cfg, _, err := f.Config()
	if err != nil {
		return err
	}
	names := cfg.Names()
	if p, err := f.Profile(); err == nil && !p.InFile {
		names = append(names, p.Name)
	}
	// Each profile may keep its items in a store of its own (store: file).
	// The current profile's store must open; another one that cannot is
	// reported on its profiles' lines rather than hiding every other line.
	current := f.StoreBackend()
	stores := map[string]credstore.Store{}
	storeErrs := map[string]error{}
	now := opts.Now()
	entries := []Entry{}
	for _, name := range names {
		e := Entry{Profile: name}
		if p := cfg.Profiles[name]; p != nil {
			e.Issuer = p.Issuer
		}
		backend := f.BackendFor(cfg.Profiles[name])
		err := storeErrs[backend]
		store, ok := stores[backend]
		if !ok && err == nil {
			if store, err = f.StoreFor(backend); err == nil {
				stores[backend] = store
			}
		}
		if err == nil {
			err = readEntry(ctx, store, name, now, &e)
		}
		if err != nil {
			if backend == current {
				return err
			}
			storeErrs[backend] = err
			e = Entry{Profile: e.Profile, Issuer: e.Issuer, StoreError: err.Error()}
		}
		entries = append(entries, e)
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(opts.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	p := ui.ForStdout(opts.IO)
	rows := [][]string{}
	for _, e := range entries {
		access := "-"
		if e.StoreError != "" {
			access = "? (its store cannot be read)"
		}
		if e.AccessToken != nil {
			switch {
			case e.AccessToken.ExpiresAt == "":
				access = "cached, expiry unknown"
			case e.AccessToken.Expired:
				access = "expired"
			default:
				access = "valid " + (time.Duration(e.AccessToken.ExpiresIn) * time.Second).String()
			}
		}
		refresh := "-"
		if e.RefreshToken != nil {
			refresh = "cached"
			if e.RefreshToken.ExpiresAt != "" {
				refresh += ", expires " + e.RefreshToken.ExpiresAt
			}
		}
		secret := "-"
		if e.ClientSecret {
			secret = "stored"
		}
		rows = append(rows, []string{e.Profile, access, refresh, secret})
	}
	p.Table([]string{"PROFILE", "ACCESS TOKEN", "REFRESH TOKEN", "CLIENT SECRET"}, rows)
	for _, e := range entries {
		if e.StoreError != "" {
			fmt.Fprintf(opts.IO.ErrOut, "%s: %s\n", e.Profile, ui.Sanitize(e.StoreError))
		}
	}
	return nil
}

// readEntry fills e with what the store holds for the profile, without
// any secret value.
func readEntry(ctx context.Context, store credstore.Store, name string, now time.Time, e *Entry) error {
	var at credstore.AccessToken
	if err := credstore.LoadJSON(ctx, store, name, credstore.KindAccessToken, &at); err == nil {
		ae := &AccessEntry{Scope: at.Scope}
		if !at.ExpiresAt.IsZero() {
			ae.ExpiresAt = at.ExpiresAt.UTC().Format(time.RFC3339)
			ae.ExpiresIn = int64(at.ExpiresAt.Sub(now).Seconds())
			ae.Expired = !at.ExpiresAt.After(now)
		}
		e.AccessToken = ae
	} else if !errors.Is(err, credstore.ErrNotFound) {
		return err
	}
	var rt credstore.RefreshToken
	if err := credstore.LoadJSON(ctx, store, name, credstore.KindRefreshToken, &rt); err == nil {
		re := &RefreshEntry{}
		if !rt.IssuedAt.IsZero() {
			re.IssuedAt = rt.IssuedAt.UTC().Format(time.RFC3339)
		}
		if !rt.ExpiresAt.IsZero() {
			re.ExpiresAt = rt.ExpiresAt.UTC().Format(time.RFC3339)
		}
		e.RefreshToken = re
	} else if !errors.Is(err, credstore.ErrNotFound) {
		return err
	}
	e.ClientSecret = present(ctx, store, name, credstore.KindClientSecret)
	e.AdminCredential = present(ctx, store, name, credstore.KindAdminCredential)
	return nil
}

func present(ctx context.Context, s credstore.Store, profile string, kind credstore.Kind) bool {
	_, err := s.Get(ctx, profile, kind)
	return err == nil
}
