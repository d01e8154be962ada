// Package hydra is the Ory Hydra v2 admin adapter: it revokes a subject's
// consent sessions (and with them the access and refresh tokens issued
// under them), reads and sets an OAuth 2.0 client's token lifespans, and
// rotates the ID-token signing key set.
//
// # Settings
//
// The admin API base is the profile's admin url (env.BaseURL), for example
// http://127.0.0.1:4445 for a self-hosted Hydra or the project URL for Ory
// Network; a trailing /admin is accepted and dropped, since every path here
// starts with /admin. It cannot be derived from the issuer: the admin API
// listens on its own port. Admin authentication is none for the
// open-source admin port (it is protected by the network) and bearer with
// a project API key (ory_pat_...) for Ory Network.
//
// Admin settings:
//
//   - public_url: the public base URL, whose /.well-known/jwks.json
//     relying parties read; default: the profile's issuer.
//   - key_set: the JSON Web Key set "key regen authz signing" rotates;
//     default hydra.openid.id-token. Set hydra.jwt.access-token to rotate
//     the key that signs JWT access tokens (strategies.access_token=jwt).
//   - key_alg: the algorithm of generated keys; default RS256.
//
// A user is a Hydra subject, exactly as the login provider accepted it.
// Hydra keeps no user directory, so "user not found" cannot be reported: a
// subject Hydra has never seen and one without consent sessions answer the
// same. The result is then "nothing to revoke", and its detail says that a
// misspelt subject looks the same, so that nobody reads it as proof.
//
// The revocation (DELETE .../sessions/consent) is always sent; the listing
// before it only feeds the report. Hydra's listing leaves out every session
// whose remembered consent has timed out (remember_for), although the
// refresh tokens issued under it stay valid for ttl.refresh_token (720h by
// default); deciding from the listing would leave exactly those alive.
//
// # What was confirmed, and where
//
// Read in Hydra's server source (ory/hydra: consent/handler.go,
// client/handler.go, client/.snapshots, jwk/handler.go, jwk/helper.go,
// persistence/sql/persister_jwk.go, driver/config/provider.go), the Go SDK
// models (ory/sdk clients/hydra/go, API v2.1.0) and ory/x
// pagination/keysetpagination:
//
//   - DELETE /admin/oauth2/auth/sessions/consent answers 204 and "revokes a
//     subject's granted consent sessions and invalidates all associated
//     OAuth 2.0 Access Tokens" (and the refresh tokens of those grants). The
//     current handler accepts exactly subject&client or subject&all=true
//     (or consent_request_id alone); any other combination is 400, so
//     client and all are never sent together. A subject or client without
//     consents is also 204 (x.ErrNotFound is swallowed).
//   - The listing drops sessions whose consent was remembered for a time
//     that has passed (filterExpiredConsentRequests in persistence/sql);
//     the DELETE removes them with the rest.
//   - Concurrent deletes of the same records can fail with 400 and ory/x
//     sqlcon.ErrConcurrentUpdate ("Unable to serialize access due to a
//     concurrent update in another session."). IsConcurrentUpdate
//     recognises it; the idempotent DELETEs are retried on it, and if it
//     persists the error is marked provider.Transient (exit 5), not a
//     refusal.
//   - GET /admin/oauth2/auth/sessions/consent?subject=S answers a JSON
//     array (empty for an unknown subject) of sessions whose
//     consent_request.client.client_id names the client, paginated by a
//     Link header whose rel="next" URL carries page_token and page_size.
//   - DELETE /admin/oauth2/auth/sessions/login?subject=S answers 204 and
//     "does not invalidate any tokens"; it only forces a new login.
//   - GET /admin/clients/{id} answers the client with every *_lifespan
//     member, null when the global default applies; an unknown client is
//     404 {"error":"Unable to locate the resource","error_description":""}.
//     GET /admin/clients is paginated the same way as the consents.
//   - PUT /admin/clients/{id}/lifespans decodes the body into the client's
//     Lifespans and assigns it whole (c.Lifespans = ls): a lifespan not sent
//     becomes null. It answers 200 with the client, durations normalised
//     (31h -> "31h0m0s"). The SDK of v2.1.0 lists ten lifespans; current
//     Hydra has thirteen (device_authorization_grant_{access,id,refresh}
//     _token_lifespan). The adapter therefore sends back every *_lifespan
//     member the GET returned, not a fixed list.
//   - Global defaults live in the configuration keys ttl.access_token,
//     ttl.refresh_token and ttl.id_token; refresh tokens are always rotated,
//     with a global grace period oauth2.grant.refresh_token
//     .rotation_grace_period (and rotation_grace_reuse_count).
//   - POST /admin/keys/{set} {"alg","use","kid"} answers 201 with a JSON Web
//     Key Set holding the new key including its private members (only
//     opaque HSM keys are stripped); GET /admin/keys/{set} also returns
//     private members. Only kid, alg and use are decoded here; the rest of
//     the body is never kept, logged or quoted.
//   - A key set is read newest first (ORDER BY created_at DESC) and Hydra
//     signs with the first private key, so a new key signs at once; older
//     keys stay in /.well-known/jwks.json (which always includes
//     hydra.openid.id-token and hydra.jwt.access-token) until DELETE
//     /admin/keys/{set}/{kid} (204).
//   - Errors are {"error","error_description"}; older herodot answers put an
//     object {"message","reason"} under "error" and both are read.
//
// # Unconfirmed
//
//   - Rate limiting: Hydra sends no rate-limit headers; a 429 from a proxy
//     or Ory Network is retried on Retry-After like any other.
//   - Whether a deleted consent also ends tokens of a client whose
//     access_token_strategy is jwt before their exp: JWT access tokens are
//     self-contained, so resource servers that do not introspect accept
//     them until they expire. StillValid says so.
//   - The exact Link header form across Hydra v2 minor versions (relative
//     or absolute, escaped or not): only the query of the rel="next" link is
//     used, and either form is read.
package hydra
