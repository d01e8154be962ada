package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/idpctl/idpctl/internal/boundedfile"
	"github.com/idpctl/idpctl/internal/config"
	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/durations"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
	"github.com/idpctl/idpctl/internal/tokens"
)

// TokenService builds the token use cases for a profile. The OAuth client
// (and with it discovery and secrets) is built only if the network is needed.
func (f *Factory) TokenService(ctx context.Context, p *config.Resolved, g tokens.GrantOptions) (*tokens.Service, error) {
	if err := CheckClientConfig(p); err != nil {
		return nil, err
	}
	if err := MissingCredential(p, g.Flow); err != nil {
		return nil, err
	}
	store, err := f.Store()
	if err != nil {
		return nil, err
	}
	locker, err := f.Locker()
	if err != nil {
		return nil, err
	}
	var once sync.Once
	var client *oauth.Client
	var clientErr error
	getClient := func(ctx context.Context) (*oauth.Client, error) {
		once.Do(func() { client, clientErr = f.OAuthClient(ctx, p) })
		return client, clientErr
	}
	svc := &tokens.Service{
		Store: store, Locker: locker, Now: f.Now, Profile: p.Name,
		Issuer: CacheIssuer(p), ClientID: p.ClientID,
		Client: func(ctx context.Context) (tokens.Refresher, error) {
			c, err := getClient(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		LoginHint: tokens.LoginHint(p.Name),
		DPoPKey: func(ctx context.Context) (string, error) {
			return f.DPoPThumbprint(ctx, p)
		},
		DPoPRequired: p.DPoP,
	}
	f.grants(p, getClient, store).Bind(svc, g)
	return svc, nil
}

// CachedTokens is the profile's token cache, for the use cases that only
// read or forget what is cached (revoking it): no grant, no lock.
func (f *Factory) CachedTokens(p *config.Resolved) (*tokens.Service, error) {
	store, err := f.Store()
	if err != nil {
		return nil, err
	}
	return &tokens.Service{Store: store, Now: f.Now, Profile: p.Name, Issuer: CacheIssuer(p), ClientID: p.ClientID}, nil
}

// CacheIssuer identifies the IdP for cached tokens: the issuer, or the
// token endpoint for profiles without discovery.
func CacheIssuer(p *config.Resolved) string {
	if p.Issuer != "" {
		return p.Issuer
	}
	return p.Endpoints.Token
}

func sleepCtx(ctx context.Context, d time.Duration) error { return durations.Sleep(ctx, d) }

// grants wires the profile's grants to the terminal, the browser, the
// clock and the credential store.
func (f *Factory) grants(p *config.Resolved, client tokens.ClientFunc, store credstore.Store) *tokens.Grants {
	return &tokens.Grants{
		Profile: p, Client: client, Store: store,
		Opener:   tokens.OpenerFunc(func(u string) error { return f.Browser(u) }),
		Prompt:   stderrPrompt{f},
		Secrets:  secretFiles{f},
		Clock:    clock{f},
		CISource: f.CITokenSource,
	}
}

// stderrPrompt speaks to the person on stderr.
type stderrPrompt struct{ f *Factory }

func (p stderrPrompt) Say(msg string) { fmt.Fprintln(p.f.IOStreams.ErrOut, msg) }
func (p stderrPrompt) Attended() bool { return p.f.IOStreams.IsStderrTTY() }

type secretFiles struct{ f *Factory }

func (s secretFiles) ReadSecretFile(path, what string) (string, error) {
	return s.f.readSecretFile(path, what)
}

// clock is the factory's time, and real sleeps.
type clock struct{ f *Factory }

func (c clock) Now() time.Time                                   { return c.f.Now() }
func (c clock) Sleep(ctx context.Context, d time.Duration) error { return sleepCtx(ctx, d) }

func (f *Factory) readSecretFile(path, what string) (string, error) {
	var raw []byte
	var err error
	if path == "-" {
		if raw, err = f.IOStreams.ReadAllIn(1 << 20); err != nil {
			return "", errs.New(errs.KindUsage, "reading the %s from stdin: %w", what, err)
		}
	} else if raw, err = boundedfile.Read(path, boundedfile.Secret, "the "+what); err != nil {
		// boundedfile's error already says what was being read.
		return "", err
	}
	s := strings.TrimSpace(string(raw))
	if s == "" {
		return "", errs.New(errs.KindUsage, "the %s is empty", what)
	}
	return s, nil
}
