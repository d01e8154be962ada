package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/idpctl/idpctl/internal/errs"
)

func authRequestClient(t *testing.T, par http.HandlerFunc) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path != "/par" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		par(w, r)
	}))
	t.Cleanup(srv.Close)
	return &Client{
		HTTP:     testHTTP(t),
		Metadata: &Metadata{Issuer: srv.URL, AuthorizationEndpoint: srv.URL + "/auth", PushedAuthorizationRequestEndpoint: srv.URL + "/par"},
		ClientID: "cli", Auth: None{},
	}, &n
}

var authQuery = url.Values{"response_type": {"code"}, "client_id": {"cli"}, "state": {"s"}, "scope": {"openid"}, "resource": {"https://a", "https://b"}, "authorization_details": {`[{"type":"t"}]`}}

// signedParams is a RequestSigner that shows what it was given.
func signedParams(params map[string]any) (string, error) {
	b, err := json.Marshal(params)
	return "signed:" + string(b), err
}

func TestAPlainRequestGoesToTheBrowserAsIs(t *testing.T) {
	c, n := authRequestClient(t, nil)
	u, err := c.authorizationURL(context.Background(), c.Metadata.AuthorizationEndpoint, authQuery, AuthCodeOptions{})
	if err != nil || n.Load() != 0 {
		t.Fatalf("err %v, %d requests", err, n.Load())
	}
	got, _ := url.Parse(u)
	if got.Query().Get("state") != "s" || len(got.Query()["resource"]) != 2 {
		t.Fatalf("query %v", got.Query())
	}
}

func TestTheRequestIsPushedWhenTheIdPRequiresItAndTheBrowserGetsOnlyTheRequestURI(t *testing.T) {
	c, n := authRequestClient(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("state") != "s" || r.PostForm.Get("client_id") != "cli" || len(r.PostForm["resource"]) != 2 || r.PostForm.Get("authorization_details") == "" {
			t.Errorf("pushed form %v", r.PostForm)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60}`))
	})
	c.Metadata.RequirePushedAuthorizationRequests = true
	u, err := c.authorizationURL(context.Background(), c.Metadata.AuthorizationEndpoint, authQuery, AuthCodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := url.Parse(u)
	if q := got.Query(); len(q) != 2 || q.Get("client_id") != "cli" || q.Get("request_uri") != "urn:ietf:params:oauth:request_uri:abc" || n.Load() != 1 {
		t.Fatalf("browser query %v after %d requests", q, n.Load())
	}
}

func TestAPushedRequestIsSignedOnceTheIdPSaysTheClientMust(t *testing.T) {
	c, n := authRequestClient(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		req := r.PostForm.Get("request")
		if req == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"Request Object must be used by this client"}`))
			return
		}
		var claims map[string]any
		_ = json.Unmarshal([]byte(strings.TrimPrefix(req, "signed:")), &claims)
		if claims["state"] != "s" || claims["client_id"] != "cli" {
			t.Errorf("request object claims %v", claims)
		}
		if res, _ := claims["resource"].([]any); len(res) != 2 {
			t.Errorf("resource in the request object: %v", claims["resource"])
		}
		if ad, _ := claims["authorization_details"].([]any); len(ad) != 1 {
			t.Errorf("authorization_details must be a JSON array in the request object: %v", claims["authorization_details"])
		}
		if len(r.PostForm) != 2 { // request and client_id from client authentication
			t.Errorf("parameters beside the request object: %v", r.PostForm)
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"request_uri":"urn:x","expires_in":60}`))
	})
	u, err := c.authorizationURL(context.Background(), c.Metadata.AuthorizationEndpoint, authQuery, AuthCodeOptions{PAR: true, SignRequest: signedParams})
	if err != nil || n.Load() != 2 || !strings.Contains(u, "request_uri=urn%3Ax") {
		t.Fatalf("url %q err %v after %d requests", u, err, n.Load())
	}
}

func TestASignedRequestNeedsAKey(t *testing.T) {
	c, _ := authRequestClient(t, nil)
	c.Metadata.RequireSignedRequestObject = true
	_, err := c.authorizationURL(context.Background(), c.Metadata.AuthorizationEndpoint, authQuery, AuthCodeOptions{})
	if !errs.Is(err, errs.KindUsage) || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("err = %v", err)
	}
	u, err := c.authorizationURL(context.Background(), c.Metadata.AuthorizationEndpoint, authQuery, AuthCodeOptions{SignRequest: signedParams})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := url.Parse(u)
	q := got.Query()
	if q.Get("client_id") != "cli" || !strings.HasPrefix(q.Get("request"), "signed:") || q.Get("state") != "" || q.Get("response_type") != "code" {
		t.Fatalf("browser query %v", q)
	}
}
