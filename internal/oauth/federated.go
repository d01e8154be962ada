package oauth

import (
	"context"
	"time"

	"github.com/idpctl/idpctl/internal/httpx"
)

// AuthFederatedAssertion names client authentication by a JWT that a third
// party issued (a CI system, a Kubernetes cluster) and the IdP trusts. On
// the wire it is a client assertion like private_key_jwt (RFC 7523 §2.2);
// only its origin differs, so it is not a method an IdP registers.
const AuthFederatedAssertion = "federated_assertion"

// FederatedAssertion sends a ready-made JWT as the client assertion
// (RFC 7523 §2.2, RFC 7521 §4.2). Next is asked for every request: the
// tokens CI systems write rotate, and one read at start-up may have
// expired by the time a later request goes out.
type FederatedAssertion struct {
	Next func(ctx context.Context, now time.Time) (string, error)
	// Ctx bounds the fetch of a token from a runtime endpoint;
	// ClientAuth.Apply carries no context of its own.
	Ctx context.Context
}

func (FederatedAssertion) Method() string { return AuthFederatedAssertion }

func (a FederatedAssertion) Apply(req *httpx.Request, clientID, _ string, now time.Time) error {
	ctx := a.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	jwt, err := a.Next(ctx, now)
	if err != nil {
		return err
	}
	// client_id is optional with an assertion (RFC 7521 §4.2), but the
	// assertion's sub is the CI identity, not always the client id, and
	// IdPs such as Entra need it to find the client.
	req.Form.Set("client_id", clientID)
	req.Form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	req.Form.Set("client_assertion", jwt)
	req.Secrets = append(req.Secrets, jwt)
	return nil
}
