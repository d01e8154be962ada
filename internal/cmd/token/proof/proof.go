// Package proof implements `idpctl token proof`.
package proof

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/idpctl/idpctl/internal/cli"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/iostreams"
	"github.com/idpctl/idpctl/internal/jose"
)

// ProofOptions are the inputs of token proof.
type ProofOptions struct {
	IO      *iostreams.IOStreams
	Factory *cli.Factory
	Now     func() time.Time

	Method  string
	URL     string
	Nonce   string
	NoToken bool
}

// NewCmdProof builds the command; runF replaces the run function in tests.
func NewCmdProof(f *cli.Factory, runF func(context.Context, *ProofOptions) error) *cobra.Command {
	opts := &ProofOptions{IO: f.IOStreams, Factory: f, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "proof --method METHOD --url URL",
		Short: "Print a DPoP proof (RFC 9449) for one request to a resource server",
		Long: `Print a fresh DPoP proof JWT on stdout, for one request with the profile's
cached DPoP-bound access token: signed with the profile's DPoP key, for the
given method and URL (query and fragment are not part of it), with the hash
of the cached access token (ath) that the resource server checks.

A proof is single-use: make a new one for every request. If the resource
server answers 401 with a DPoP-Nonce header, make the proof again with
--nonce.`,
		Example: `  URL=https://api.example.com/v1/items
  curl -H "Authorization: DPoP $(idpctl token get --dpop)" \
       -H "DPoP: $(idpctl token proof --method GET --url $URL)" "$URL"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return proofRun(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Method, "method", "", "HTTP method of the request (htm), e.g. GET")
	fl.StringVar(&opts.URL, "url", "", "URL of the request (htu)")
	fl.StringVar(&opts.Nonce, "nonce", "", "the resource server's DPoP-Nonce, when it demanded one")
	fl.BoolVar(&opts.NoToken, "no-token", false, "leave out ath, for a request that carries no access token")
	_ = cmd.MarkFlagRequired("method")
	_ = cmd.MarkFlagRequired("url")
	return cmd
}

func proofRun(ctx context.Context, opts *ProofOptions) error {
	method := strings.ToUpper(strings.TrimSpace(opts.Method))
	if _, err := jose.ProofMethod(method); err != nil {
		return errs.New(errs.KindUsage, "--method %q is not an HTTP method", opts.Method)
	}
	if _, err := jose.ProofURL(opts.URL); err != nil {
		return errs.New(errs.KindUsage, "--url: %s", strings.TrimPrefix(err.Error(), "DPoP proof: "))
	}
	f := opts.Factory
	p, err := f.Profile()
	if err != nil {
		return err
	}
	key, err := f.LoadDPoPKey(ctx, p)
	if err != nil {
		return err
	}
	if key == nil {
		return errs.New(errs.KindLoginRequired, "profile %q has no DPoP key: get a DPoP-bound token first with 'idpctl token get --dpop --profile %s'", p.Name, p.Name)
	}
	accessToken := ""
	if !opts.NoToken {
		store, err := f.Store()
		if err != nil {
			return err
		}
		var at credstore.AccessToken
		if err := credstore.LoadJSON(ctx, store, p.Name, credstore.KindAccessToken, &at); err != nil {
			if errors.Is(err, credstore.ErrNotFound) {
				return errs.New(errs.KindLoginRequired, "profile %q has no cached access token to bind the proof to: run 'idpctl token get --dpop' first", p.Name)
			}
			return err
		}
		if at.DPoPJkt == "" {
			return errs.New(errs.KindLoginRequired, "the cached access token of profile %q is a Bearer token, not DPoP-bound: run 'idpctl token get --dpop' first", p.Name)
		}
		if at.DPoPJkt != key.Thumbprint() {
			return errs.New(errs.KindLoginRequired, "the cached access token of profile %q is bound to another DPoP key: run 'idpctl token get --dpop' for a new one", p.Name)
		}
		accessToken = at.AccessToken
	}
	proof, err := key.Proof(jose.DPoPProofRequest{Method: method, URL: opts.URL, AccessToken: accessToken, Nonce: opts.Nonce, Now: opts.Now()})
	if err != nil {
		return errs.Wrap(errs.KindUsage, err)
	}
	_, err = fmt.Fprintln(opts.IO.Out, proof)
	return err
}
