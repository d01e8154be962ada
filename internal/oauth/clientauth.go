package oauth

import (
	"net/url"
	"time"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
)

// Client authentication methods (RFC 7591 §2 names, OIDC Core §9).
const (
	AuthSecretBasic = "client_secret_basic"
	AuthSecretPost  = "client_secret_post"
	AuthPrivateJWT  = "private_key_jwt"
	AuthSecretJWT   = "client_secret_jwt"
	AuthNone        = "none"
	AuthTLSClient   = "tls_client_auth"
)

// AuthMethods lists the supported methods, for flag help and validation.
var AuthMethods = []string{AuthSecretBasic, AuthSecretPost, AuthPrivateJWT, AuthSecretJWT, AuthNone, AuthTLSClient}

// ClientAuth authenticates the client on a request to an endpoint.
type ClientAuth interface {
	Method() string
	Apply(req *httpx.Request, clientID, endpoint string, now time.Time) error
}

// AssertionSigner makes a client assertion JWT (RFC 7523 §3): iss and sub
// the client id, aud the endpoint, a short exp and a unique jti.
type AssertionSigner interface {
	ClientAssertion(clientID, audience string, now time.Time) (string, error)
}

// SecretBasic is client_secret_basic. RFC 6749 §2.3.1 says the id and
// secret are form-urlencoded before Basic encoding; many clients forget,
// which breaks secrets containing ':' or '%'.
type SecretBasic struct{ Secret string }

func (SecretBasic) Method() string { return AuthSecretBasic }
func (a SecretBasic) Apply(req *httpx.Request, clientID, _ string, _ time.Time) error {
	req.BasicUser = url.QueryEscape(clientID)
	req.BasicPassword = url.QueryEscape(a.Secret)
	req.Secrets = append(req.Secrets, a.Secret, req.BasicPassword)
	return nil
}

// SecretPost is client_secret_post (RFC 6749 §2.3.1, NOT RECOMMENDED there
// but required by some IdPs, Webex among them).
type SecretPost struct{ Secret string }

func (SecretPost) Method() string { return AuthSecretPost }
func (a SecretPost) Apply(req *httpx.Request, clientID, _ string, _ time.Time) error {
	req.Form.Set("client_id", clientID)
	req.Form.Set("client_secret", a.Secret)
	req.Secrets = append(req.Secrets, a.Secret)
	return nil
}

// Assertion is private_key_jwt or client_secret_jwt, by its signer.
type Assertion struct {
	AuthMethod string
	Signer     AssertionSigner
}

func (a Assertion) Method() string { return a.AuthMethod }
func (a Assertion) Apply(req *httpx.Request, clientID, endpoint string, now time.Time) error {
	jwt, err := a.Signer.ClientAssertion(clientID, endpoint, now)
	if err != nil {
		return errs.New(errs.KindUsage, "signing the client assertion: %w", err)
	}
	// client_id is optional with an assertion (RFC 7521 §4.2) but some
	// servers want it to pick the client before parsing the JWT.
	req.Form.Set("client_id", clientID)
	req.Form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	req.Form.Set("client_assertion", jwt)
	req.Secrets = append(req.Secrets, jwt)
	return nil
}

// None is a public client (RFC 6749 §2.1): it only names itself.
type None struct{}

func (None) Method() string { return AuthNone }
func (None) Apply(req *httpx.Request, clientID, _ string, _ time.Time) error {
	req.Form.Set("client_id", clientID)
	return nil
}

// TLSClient is RFC 8705 tls_client_auth: the certificate goes in the TLS
// handshake (configured on the HTTP client); the request names the client.
type TLSClient struct{}

func (TLSClient) Method() string { return AuthTLSClient }
func (TLSClient) Apply(req *httpx.Request, clientID, _ string, _ time.Time) error {
	req.Form.Set("client_id", clientID)
	return nil
}
