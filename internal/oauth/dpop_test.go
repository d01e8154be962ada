package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
)

// fakeSigner makes readable proofs: method|url|nonce.
type fakeSigner struct{ jkt string }

func (f fakeSigner) Thumbprint() string { return f.jkt }
func (f fakeSigner) Proof(method, url, at, nonce string, _ time.Time) (string, error) {
	return strings.Join([]string{method, url, at, nonce}, "|"), nil
}

// dpopServer answers token requests with handle, counting them.
func dpopServer(t *testing.T, handle func(n int32, w http.ResponseWriter, r *http.Request)) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(n.Add(1), w, r)
	}))
	t.Cleanup(srv.Close)
	c := &Client{
		HTTP:     testHTTP(t),
		Metadata: &Metadata{Issuer: srv.URL, TokenEndpoint: srv.URL + "/token", DPoPSigningAlgValuesSupported: []string{"ES256"}},
		ClientID: "c", Auth: SecretBasic{Secret: "s"},
		DPoP: &DPoP{Key: func(context.Context) (DPoPSigner, error) { return fakeSigner{jkt: "jkt-1"}, nil }},
	}
	return c, &n
}

func answer(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

var dpopToken = map[string]any{"access_token": "at", "token_type": "DPoP", "expires_in": 60}

func TestTheDPoPNonceTheServerDemandsIsSentOnTheOneRetry(t *testing.T) {
	c, n := dpopServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		proof := r.Header.Get("DPoP")
		if !strings.HasPrefix(proof, "POST|http") {
			t.Errorf("request %d: proof %q", n, proof)
		}
		if !strings.HasSuffix(proof, "|server-nonce") {
			w.Header().Set("DPoP-Nonce", "server-nonce")
			answer(w, 400, map[string]string{"error": "use_dpop_nonce"})
			return
		}
		answer(w, 200, dpopToken)
	})
	c.DPoP.Always = true
	tok, err := c.ClientCredentials(context.Background(), TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "DPoP" || tok.DPoPJkt != "jkt-1" || n.Load() != 2 {
		t.Fatalf("type %q jkt %q after %d requests", tok.TokenType, tok.DPoPJkt, n.Load())
	}
}

func TestANonceDemandedAgainIsAnErrorNotALoop(t *testing.T) {
	c, n := dpopServer(t, func(n int32, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("DPoP-Nonce", base64.RawURLEncoding.EncodeToString([]byte{byte(n)}))
		answer(w, 400, map[string]string{"error": "use_dpop_nonce"})
	})
	c.DPoP.Always = true
	_, err := c.ClientCredentials(context.Background(), TokenOptions{})
	if !errs.Is(err, errs.KindRefused) || !strings.Contains(err.Error(), "giving up") {
		t.Fatalf("err = %v, want a refusal that names the loop", err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d requests, want 2", n.Load())
	}
}

func TestANonceDemandWithoutANewNonceIsNotRetried(t *testing.T) {
	c, n := dpopServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		answer(w, 400, map[string]string{"error": "use_dpop_nonce"})
	})
	c.DPoP.Always = true
	_, err := c.ClientCredentials(context.Background(), TokenOptions{})
	if err == nil || n.Load() != 1 || !strings.Contains(err.Error(), "sent no DPoP-Nonce header") {
		t.Fatalf("err %v after %d requests, want an error naming the missing nonce after 1", err, n.Load())
	}
}

func TestAProofIsAddedWhenTheIdPDemandsOne(t *testing.T) {
	cases := []struct {
		name   string
		refuse map[string]string
		grant  func(*Client) error
		want   int32
	}{
		{"invalid_dpop_proof", map[string]string{"error": "invalid_dpop_proof"}, func(c *Client) error { _, err := c.Refresh(context.Background(), "rt", TokenOptions{}); return err }, 2},
		{"a description naming the missing proof", map[string]string{"error": "invalid_request", "error_description": "DPoP proof is missing"}, func(c *Client) error { _, err := c.Refresh(context.Background(), "rt", TokenOptions{}); return err }, 2},
		{"a bare invalid_grant to client credentials", map[string]string{"error": "invalid_grant"}, func(c *Client) error { _, err := c.ClientCredentials(context.Background(), TokenOptions{}); return err }, 2},
		{"a bare invalid_grant to a refresh is a dead refresh token", map[string]string{"error": "invalid_grant"}, func(c *Client) error { _, err := c.Refresh(context.Background(), "rt", TokenOptions{}); return err }, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, n := dpopServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("DPoP") == "" {
					answer(w, 400, tc.refuse)
					return
				}
				answer(w, 200, dpopToken)
			})
			err := tc.grant(c)
			if n.Load() != tc.want {
				t.Fatalf("%d requests, want %d (err %v)", n.Load(), tc.want, err)
			}
			if (tc.want == 2) != (err == nil) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestNoProofIsSentUnlessAskedOrDemanded(t *testing.T) {
	c, _ := dpopServer(t, func(_ int32, w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("DPoP") != "" {
			t.Error("a proof was sent")
		}
		answer(w, 200, map[string]any{"access_token": "at", "token_type": "DPoP"})
	})
	_, err := c.ClientCredentials(context.Background(), TokenOptions{})
	var e *errs.Error
	if !errors.As(err, &e) || !strings.Contains(err.Error(), "without a DPoP proof") {
		t.Fatalf("a DPoP token without a proof: %v", err)
	}
}

func TestABearerAnswerToAProofIsReportedAsBearer(t *testing.T) {
	c, _ := dpopServer(t, func(_ int32, w http.ResponseWriter, _ *http.Request) {
		answer(w, 200, map[string]any{"access_token": "at", "token_type": "Bearer"})
	})
	tok, err := c.ClientCredentials(context.Background(), TokenOptions{DPoP: true})
	if err != nil || tok.TokenType != "Bearer" || tok.DPoPJkt != "" {
		t.Fatalf("tok %+v err %v", tok, err)
	}
}
