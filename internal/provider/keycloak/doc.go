// Package keycloak is the Keycloak admin adapter: it ends a user's
// sessions and revokes their refresh and offline tokens (all clients or
// one), reads and sets a client's token lifetimes, and rotates the realm's
// signing or encryption key by adding a generated key provider.
//
// # Settings
//
// The server base and realm come from the profile's admin url
// (env.BaseURL, for example https://kc.example.com) or, when that is
// empty, from the issuer https://host[/auth]/realms/R, which gives the base
// https://host[/auth] and the realm R. A url that itself ends in
// /realms/R is read the same way. Admin settings:
//
//   - realm: the realm to manage; overrides the one in the URL.
//   - admin_realm: where the admin client lives; default master. With
//     client_credentials admin auth and no token URL, the token URL is
//     {base}/realms/{admin_realm}/protocol/openid-connect/token. The
//     client's service account needs the realm-management roles
//     (manage-users, view-users, manage-clients, manage-realm).
//
// A user is given as a username, an email (when it contains "@" and no
// username matches), or a user id (a UUID, fetched directly). Exact matches
// only: the search results are filtered again here, because servers older
// than the exact parameter match substrings.
//
// Revoking for one client revokes the user's consent and offline tokens for
// it and ends the user's SSO sessions that include the client, because
// the client's online refresh tokens live in those sessions. A Keycloak
// session is shared by every client the user signed in to through it, so
// ending it signs the user out of those clients too; the result names them.
// RevokeUserRequest.Method "consent" skips the session step.
//
// # What was confirmed, and where
//
// Read in Keycloak's server source (keycloak/keycloak: services/.../admin
// UserResource.java, RealmAdminResource.java, ClientResource.java and
// ComponentResource.java, models/.../RepresentationToModel.java,
// OIDCConfigAttributes.java, keys/Attributes.java,
// GeneratedRsaEncKeyProviderFactory.java, AbstractRsaKeyProvider.java,
// core/.../KeysMetadataRepresentation.java, services/error
// KeycloakErrorHandler.java):
//
//   - POST /admin/realms/{r}/users/{id}/logout answers 204; it sets the
//     user's not-before to now and back-channel logs out every user session.
//   - GET .../users/{id}/consents answers [{clientId, grantedClientScopes,
//     createdDate, lastUpdatedDate, additionalGrants:[{client, key:"Offline
//     Token"}]}], listing clients that hold only an offline token too.
//   - DELETE .../users/{id}/consents/{clientId} takes the client_id string;
//     it answers 204, 404 "Client not found" for an unknown client and 404
//     "Consent nor offline token not found" when there is nothing to revoke
//     (so a second call is 404).
//   - GET .../users/{id}/sessions answers UserSessionRepresentation
//     {id, userId, start, lastAccess, clients:{clientUuid: clientId}};
//     DELETE /admin/realms/{r}/sessions/{session} answers 204, or 404
//     "Sesssion not found" (sic), and back-channel logs the session out.
//   - Client attributes are strings in seconds: access.token.lifespan,
//     client.session.idle.timeout, client.session.max.lifespan,
//     client.offline.session.idle.timeout, client.offline.session.max.lifespan.
//   - RepresentationToModel.updateClient sets the attributes it is sent and,
//     in the source read, leaves unsent ones in place; other members and
//     other versions replace more. The whole representation read is sent
//     back regardless (as the admin console does), and the read-back checks
//     that no attribute was lost. The contract fake is deliberately the
//     stricter server: it drops what is not sent.
//   - GET /admin/realms/{r}/keys answers {active:{alg:kid}, keys:[{providerId,
//     providerPriority, kid, status, type, algorithm, publicKey, certificate,
//     use}]}; providerId there is the key provider's component id (the
//     providers set it to model.getId()), which is how a new key is found.
//   - Key provider config keys are priority, enabled, active, keySize and
//     algorithm; rsa-generated signs (use SIG), rsa-enc-generated encrypts
//     (use ENC, algorithms RSA-OAEP and friends). The highest-priority
//     active key of an algorithm signs; passive keys only verify.
//   - Errors come as {"error","error_description"} (OAuth2ErrorRepresentation,
//     from exceptions) or {"errorMessage"} (ErrorRepresentation, from
//     ErrorResponse.error); all three members are read.
//
// From the admin REST API documentation, not re-read in source:
// POST /admin/realms/{r}/components answers 201 with the new component's
// URL in Location; GET /admin/realms/{r}/clients?clientId=X matches the
// client_id exactly and takes first and max; GET .../users takes
// username, email and exact.
//
// # Unconfirmed
//
//   - Whether refresh and offline tokens issued before the user's not-before
//     are refused at the token endpoint in every version (the result says
//     "refused"; access tokens are JWTs and stay valid until they expire).
//   - The exact JSON of a 404 across versions: the handler read answers
//     {"error":"invalid_request","error_description":"..."}; newer releases
//     may put the message in "error". The adapter decides on status codes
//     and its own earlier reads, never on that text.
//   - That a component PUT keeps a secret config value sent back masked
//     ("**********", as GET shows it): the admin console relies on it; the
//     fake insists the mask is sent back unchanged.
//   - Rate limiting: Keycloak has none of its own; a 429 from a proxy is
//     retried on Retry-After like any other.
package keycloak
