package tokens

import (
	"context"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/credstore"
	"github.com/idpctl/idpctl/internal/oauth"
)

// BenchmarkCachedGet measures the use-case work of a cache hit: one store
// read, JSON decoding and the usability checks (the store is in memory, so
// this is idpctl's own cost, not the keychain's).
func BenchmarkCachedGet(b *testing.B) {
	store := credstore.NewMemory()
	s := &Service{Store: store, Locker: store, Profile: "p", Issuer: "https://idp", ClientID: "c",
		Client: func(context.Context) (Refresher, error) { b.Fatal("no network on a hit"); return nil, nil }}
	at := credstore.AccessToken{AccessToken: string(make([]byte, 900)), TokenType: "Bearer", ExpiresAt: time.Now().Add(time.Hour),
		ObtainedAt: time.Now(), Issuer: "https://idp", ClientID: "c", Request: RequestKey(oauth.TokenOptions{}), Scope: "openid api:read"}
	if err := credstore.SaveJSON(context.Background(), store, "p", credstore.KindAccessToken, at); err != nil {
		b.Fatal(err)
	}
	req := Request{Options: oauth.TokenOptions{Scopes: []string{"api:read"}}, MinTTL: AutoMinTTL}
	b.ReportAllocs()
	for b.Loop() {
		res, err := s.Get(context.Background(), req)
		if err != nil || res.Source != FromCache {
			b.Fatal(res, err)
		}
	}
}
