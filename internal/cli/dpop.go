package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/jose"
	"github.com/idpctl/idpctl/internal/oauth"
)

// DPoPFlagUsage is the help of --dpop, the same on every command that has it.
const DPoPFlagUsage = "sender-constrain tokens with DPoP (RFC 9449), using the profile's key in the credential store (made on first use)"

// dpopSigner lets the oauth package sign proofs without knowing the key.
type dpopSigner struct{ k *jose.DPoPKey }

func (s dpopSigner) Thumbprint() string { return s.k.Thumbprint() }

func (s dpopSigner) Proof(method, url, accessToken, nonce string, now time.Time) (string, error) {
	return s.k.Proof(jose.DPoPProofRequest{Method: method, URL: url, AccessToken: accessToken, Nonce: nonce, Now: now})
}

// LoadDPoPKey returns the profile's DPoP key from the credential store, or
// nil when it has none. The key never leaves the store except to sign.
func (f *Factory) LoadDPoPKey(ctx context.Context, p *config.Resolved) (*jose.DPoPKey, error) {
	store, err := f.Store()
	if err != nil {
		return nil, err
	}
	raw, err := store.Get(ctx, p.Name, credstore.KindDPoPKey)
	if err != nil {
		if errors.Is(err, credstore.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	k, err := jose.ParseDPoPKey(raw)
	if err != nil {
		return nil, errs.New(errs.KindStore, "the DPoP key of profile %q is unreadable (remove it with 'idpctl logout'): %w", p.Name, err)
	}
	return k, nil
}

// DPoPThumbprint is the thumbprint of the profile's stored DPoP key, "" when
// there is none.
func (f *Factory) DPoPThumbprint(ctx context.Context, p *config.Resolved) (string, error) {
	k, err := f.LoadDPoPKey(ctx, p)
	if err != nil || k == nil {
		return "", err
	}
	return k.Thumbprint(), nil
}

// EnsureDPoPKey returns the profile's DPoP key, making and storing one of
// the profile's algorithm (ES256 by default) when there is none. One key per
// profile: RFC 9449 §11.8 would allow a key per token, but refreshes must
// prove the key the refresh token is bound to, and a cached token is only
// usable with its key.
func (f *Factory) EnsureDPoPKey(ctx context.Context, p *config.Resolved, md *oauth.Metadata) (*jose.DPoPKey, error) {
	k, err := f.LoadDPoPKey(ctx, p)
	if err != nil {
		return nil, err
	}
	if k != nil {
		if err := checkDPoPAlg(k.Alg(), md); err != nil {
			return nil, err
		}
		return k, nil
	}
	alg := p.DPoPAlg
	if alg == "" {
		alg = jose.DefaultDPoPAlgorithm
	}
	if !slices.Contains(jose.DPoPAlgorithms, alg) {
		return nil, errs.New(errs.KindUsage, "dpop_alg %q is not supported: choose one of %s", alg, strings.Join(jose.DPoPAlgorithms, ", "))
	}
	if err := checkDPoPAlg(alg, md); err != nil {
		return nil, err
	}
	k, err = jose.NewDPoPKey(alg)
	if err != nil {
		return nil, err
	}
	raw, err := k.MarshalPrivate()
	if err != nil {
		return nil, fmt.Errorf("encoding the DPoP key: %w", err)
	}
	store, err := f.Store()
	if err != nil {
		return nil, err
	}
	if err := store.Set(ctx, p.Name, credstore.KindDPoPKey, raw); err != nil {
		return nil, fmt.Errorf("storing the DPoP key: %w", err)
	}
	return k, nil
}

// checkDPoPAlg refuses a key the IdP says it will not accept (RFC 9449
// §5.1); an IdP that advertises nothing is left to judge the proof.
func checkDPoPAlg(alg string, md *oauth.Metadata) error {
	if md == nil || len(md.DPoPSigningAlgValuesSupported) == 0 || slices.Contains(md.DPoPSigningAlgValuesSupported, alg) {
		return nil
	}
	return errs.New(errs.KindUsage, "the IdP accepts DPoP proofs signed with %s, not %s: set dpop_alg in the profile (and remove the old key with 'idpctl logout')", strings.Join(md.DPoPSigningAlgValuesSupported, ", "), alg)
}

// dpopFor is the OAuth client's DPoP state for a profile: always on when
// the profile asks for it, else on only once the IdP demands a proof.
func (f *Factory) dpopFor(p *config.Resolved, md *oauth.Metadata) *oauth.DPoP {
	return &oauth.DPoP{
		Always: p.DPoP,
		Key: func(ctx context.Context) (oauth.DPoPSigner, error) {
			k, err := f.EnsureDPoPKey(ctx, p, md)
			if err != nil {
				return nil, err
			}
			return dpopSigner{k}, nil
		},
	}
}
