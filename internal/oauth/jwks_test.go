package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	gojose "github.com/go-jose/go-jose/v4"
)

func publicJWKS(t *testing.T, kid string) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(gojose.JSONWebKeySet{Keys: []gojose.JSONWebKey{{Key: &k.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestJWKSIsFetchedOnceAndAgainOnlyWhenForced(t *testing.T) {
	var hits atomic.Int32
	sets := [][]byte{publicJWKS(t, "k1"), publicJWKS(t, "k2")}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(sets[min(int(n)-1, 1)])
	}))
	defer srv.Close()
	keys := JWKS(testHTTP(t), srv.URL+"/jwks")
	ctx := context.Background()
	for range 3 {
		set, err := keys(ctx, false)
		if err != nil || len(set.Key("k1")) != 1 {
			t.Fatalf("%v, %v", set, err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("%d fetches for three uses", hits.Load())
	}
	// An unknown kid after a rotation forces a new fetch.
	set, err := keys(ctx, true)
	if err != nil || len(set.Key("k2")) != 1 || hits.Load() != 2 {
		t.Fatalf("forced: %v, %v, %d fetches", set, err, hits.Load())
	}
}

func TestJWKSThatIsAnHTMLPageIsNamed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Sign in</body></html>"))
	}))
	defer srv.Close()
	_, err := JWKS(testHTTP(t), srv.URL+"/jwks")(context.Background(), false)
	if err == nil || !strings.Contains(err.Error(), "JWKS") || !strings.Contains(strings.ToLower(err.Error()), "html") {
		t.Fatalf("err = %v", err)
	}
}
