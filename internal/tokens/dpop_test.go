package tokens

import (
	"context"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/oauth"
)

// optsRefresher records the options of each refresh.
type optsRefresher struct{ seen []oauth.TokenOptions }

func (o *optsRefresher) Refresh(_ context.Context, _ string, opts oauth.TokenOptions) (*oauth.Token, error) {
	o.seen = append(o.seen, opts)
	return &oauth.Token{AccessToken: "fresh", TokenType: "DPoP", DPoPJkt: "key-a", ExpiresAt: time.Now().Add(time.Hour)}, nil
}

func dpopService(t *testing.T, key string, at credstore.AccessToken, rt *credstore.RefreshToken) (*Service, *optsRefresher) {
	t.Helper()
	store := credstore.NewMemory()
	r := &optsRefresher{}
	s := &Service{
		Store: store, Locker: store, Profile: "p", Issuer: "https://idp", ClientID: "c",
		Client:  func(context.Context) (Refresher, error) { return r, nil },
		DPoPKey: func(context.Context) (string, error) { return key, nil },
	}
	at.Issuer, at.ClientID, at.Request, at.ExpiresAt = s.Issuer, s.ClientID, RequestKey(oauth.TokenOptions{}), time.Now().Add(time.Hour)
	ctx := context.Background()
	if err := credstore.SaveJSON(ctx, store, "p", credstore.KindAccessToken, at); err != nil {
		t.Fatal(err)
	}
	if rt != nil {
		rt.Issuer, rt.ClientID = s.Issuer, s.ClientID
		if err := credstore.SaveJSON(ctx, store, "p", credstore.KindRefreshToken, rt); err != nil {
			t.Fatal(err)
		}
	}
	return s, r
}

func TestADPoPBoundTokenIsServedOnlyWithItsKey(t *testing.T) {
	cases := []struct {
		name, key, jkt string
		required       bool
		fromCache      bool
	}{
		{"the same key", "key-a", "key-a", false, true},
		{"another key", "key-b", "key-a", false, false},
		{"no key any more", "", "key-a", false, false},
		{"a Bearer token when DPoP is required", "key-a", "", true, false},
		{"a Bearer token when DPoP is not required", "key-a", "", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := dpopService(t, tc.key, credstore.AccessToken{AccessToken: "cached", DPoPJkt: tc.jkt}, &credstore.RefreshToken{RefreshToken: "rt", DPoPJkt: tc.key})
			s.DPoPRequired = tc.required
			res, err := s.Get(context.Background(), Request{MinTTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if (res.Source == FromCache) != tc.fromCache {
				t.Fatalf("source %s, want from cache %v", res.Source, tc.fromCache)
			}
		})
	}
}

func TestABoundRefreshTokenIsUsedWithAProofOfTheSameKeyOnly(t *testing.T) {
	s, r := dpopService(t, "key-a", credstore.AccessToken{AccessToken: "cached"}, &credstore.RefreshToken{RefreshToken: "rt", DPoPJkt: "key-a"})
	res, err := s.Get(context.Background(), Request{Refresh: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.seen) != 1 || !r.seen[0].DPoP {
		t.Fatalf("refresh options %+v: the proof was not required", r.seen)
	}
	if res.Token.DPoPJkt != "key-a" || res.Token.TokenType != "DPoP" {
		t.Fatalf("stored %+v", res.Token)
	}

	s, r = dpopService(t, "key-b", credstore.AccessToken{AccessToken: "cached"}, &credstore.RefreshToken{RefreshToken: "rt", DPoPJkt: "key-a"})
	_, err = s.Get(context.Background(), Request{Refresh: true})
	if !errs.Is(err, errs.KindLoginRequired) || len(r.seen) != 0 {
		t.Fatalf("with another key: err %v after %d refreshes, want login required and none", err, len(r.seen))
	}
	if rt, _ := s.LoadRefresh(context.Background()); rt == nil {
		t.Fatal("the refresh token was dropped although it was never sent")
	}
}
