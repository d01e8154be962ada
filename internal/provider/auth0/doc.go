// Package auth0 is the Auth0 admin adapter: it revokes a user's refresh
// tokens and sessions (all apps or one), reads and sets an application's
// refresh-token settings and an API's access-token lifetime, and rotates
// the tenant's signing key or rekeys its encryption key hierarchy, through
// the Management API v2 (https://{tenant}/api/v2/).
//
// # Settings
//
// The tenant is the admin setting tenant (acme.eu.auth0.com); the API base
// is the profile's admin url (env.BaseURL) or else https://{tenant}, or else
// the issuer's host. The Management API lives on the canonical tenant
// domain, not on a custom domain: when the issuer is a custom domain, set
// tenant. The admin setting api (an API id or identifier) is the default
// for the LifetimeChange option "api" and lets revocations say how long
// issued access tokens stay valid.
//
// Admin authentication is client_credentials (a machine-to-machine
// application authorised for the Management API; TokenURL defaults to
// https://{tenant}/oauth/token, Audience to https://{tenant}/api/v2/ and the
// client authentication to client_secret_post, the token endpoint auth
// method Auth0 gives new machine-to-machine applications; set admin
// client_auth to client_secret_basic for an application changed to it) or
// bearer (a ready Management API token).
//
// # Users
//
// Users are addressed by user_id (auth0|abc, google-oauth2|123). A value with
// "@" and no "|" is taken as an email and looked up with GET
// /api/v2/users-by-email, which matches case-sensitively: the address is
// tried as typed and lower-cased, and together they must match exactly one
// user. No match is "user not found", never "nothing to revoke"; where a
// listing cannot tell (the device-credentials fallback answers an empty
// page for an unknown user), GET /api/v2/users/{id} decides.
//
// # What was confirmed, and where
//
// Read in Auth0's own SDK sources and API reference (auth0/go-auth0
// management/users/refreshtoken, management/refreshtokens and the v1
// ClientRefreshToken type; auth0/auth0.net, auth0/auth0-java and auth0-PHP
// tests for the key endpoints; auth0/auth0-cli refresh-tokens revoke; the
// Management API v2 reference pages and the refresh-token and session
// management guides on auth0.com/docs):
//
//   - DELETE /api/v2/users/{id}/refresh-tokens and DELETE
//     /api/v2/users/{id}/sessions answer "deletion request accepted" (202):
//     the work is asynchronous, so the outcome is "accepted". Both belong to
//     the refresh-token and session management APIs, which Auth0 documents
//     as Enterprise-plan features.
//   - POST /api/v2/refresh-tokens/revoke takes exactly one of ids; user_id;
//     user_id + client_id; user_id + client_id + audience; or client_id; it
//     needs the delete:refresh_tokens scope. The older way is GET
//     /api/v2/device-credentials?user_id=&client_id=&type= and DELETE
//     /api/v2/device-credentials/{id} per credential. Refresh tokens are
//     two types there: refresh_token, and rotating_refresh_token for
//     applications with rotation (the default of single-page apps); the
//     listing takes one type per request and pages (page, per_page up to
//     1000, 50 by default; include_totals=true answers {start, limit,
//     length, total, device_credentials}). Every page of both types is
//     read before anything is deleted, since a delete shifts later pages.
//   - A resource server's token_lifetime_for_web (implicit and hybrid
//     flows) may not exceed its token_lifetime; a shorter access token
//     lifetime is refused before any PATCH.
//   - An application's refresh_token object holds rotation_type
//     (rotating|non-rotating) and expiration_type (expiring|non-expiring),
//     both required, leeway, token_lifetime (1 to 157788000 seconds),
//     infinite_token_lifetime, idle_token_lifetime (at least 1 second),
//     infinite_idle_token_lifetime and, on newer tenants, policies; the
//     infinite_* flags take precedence over the lifetimes. The whole object
//     is sent back with only the asked members changed.
//   - jwt_configuration.lifetime_in_seconds is the ID-token lifetime; the
//     access-token lifetime is the API's (resource server's) token_lifetime.
//   - GET /api/v2/keys/signing lists keys with kid, cert, current, next,
//     previous and revoked; POST /api/v2/keys/signing/rotate answers the new
//     key's {cert, kid} and is limited to five calls a day; POST
//     /api/v2/keys/encryption/rekey answers 204 and "performs rekeying
//     operation on the key hierarchy": no kid is published for it.
//
// # Unconfirmed
//
//   - The status of POST /api/v2/refresh-tokens/revoke (202 is taken as
//     accepted, 200 and 204 as done) and what a tenant without it answers:
//     a 404 that is not about the user, or a 403 mentioning a feature not
//     enabled, falls back to the device-credentials endpoints. A 403 for a
//     missing scope does not.
//   - What the device-credentials listing answers for an unknown user (an
//     empty list is reported as nothing to revoke).
//   - The 404 body for an unknown user on the DELETE endpoints (errorCode
//     inexistent_user is recognised, any 404 from them is "not found").
//   - The maximum API token_lifetime of 2592000 seconds (30 days), and an
//     idle lifetime having to be at most the absolute one.
//   - The error document {"statusCode","error","message","errorCode"} and the
//     X-RateLimit-Limit, -Remaining and -Reset headers come from the
//     project's provider notes.
package auth0
