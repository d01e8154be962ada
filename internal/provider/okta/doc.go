// Package okta is the Okta admin adapter: it revokes a user's tokens
// (all apps or one), reads and sets an app's token lifetimes, and rotates a
// custom authorization server's signing key, through the Okta management
// API (/api/v1).
//
// # Settings
//
// The org URL is the profile's admin url (env.BaseURL) or, when that is
// empty, the scheme and host of the issuer (https://acme.okta.com or
// https://acme.okta.com/oauth2/{as}). The authorization server is the admin
// setting authorization_server; without it, the {as} of an issuer of the
// form /oauth2/{as}, else "default" (the custom authorization server every
// org has). The value "org" names the org authorization server
// (/oauth2/v1), whose lifetimes and keys Okta fixes itself.
//
// Admin authentication is ssws (an API token, "Authorization: SSWS
// <token>") or bearer (an OAuth access token for the management API).
// client_credentials is accepted and gets the org authorization server's
// token URL and the okta.* scopes it needs, but Okta issues okta.* scopes to
// service apps only with private_key_jwt, which AdminAuth does not do: use
// bearer with a token obtained elsewhere.
//
// # Users
//
// A user is given as an Okta user id or login (Okta fetches either with GET
// /api/v1/users/{idOrLogin}); an email that is not also the login is not
// found. Logins containing "/" cannot be fetched by login (Okta's rule) and
// are refused before any request.
//
// # What was confirmed, and where
//
// Read in Okta's own material (okta/okta-developer-docs, the reference
// pages under packages/@okta/vuepress-site/docs/reference/api/users,
// .../authorization-servers and the refresh-token guides; okta/okta-sdk-golang
// okta/docs/UserSessionsAPI.md and ApplicationAPI.md; developer.okta.com's
// rate-limit and error-code references):
//
//   - DELETE /api/v1/users/{userId}/sessions?oauthTokens=true answers 204 and
//     revokes the user's OpenID Connect and OAuth refresh and access tokens;
//     forgetDevices defaults to true on Identity Engine, so it is sent as
//     false: forgetting remembered MFA devices is a separate decision.
//   - Unknown users answer 404 with errorCode E0000007; errors carry
//     errorCode, errorSummary, errorLink, errorId and errorCauses.
//   - GET and DELETE /api/v1/users/{uid}/clients/{clientId}/tokens list (limit
//     up to 200, paginated by Link rel="next") and revoke (204) the user's
//     refresh tokens for one client; the access tokens minted from them are
//     revoked too, access tokens issued without a refresh token are not.
//     .../grants lists and revokes the user's consent grants (204).
//   - Policies of a custom authorization server list the clients they apply
//     to in conditions.clients.include (client ids or ALL_CLIENTS); a rule's
//     actions.token holds accessTokenLifetimeMinutes (5 minutes to 1 day),
//     refreshTokenLifetimeMinutes (0 = unlimited, else at least the access
//     lifetime) and refreshTokenWindowMinutes (10 minutes to five years);
//     rules are replaced whole by PUT .../policies/{pid}/rules/{rid}.
//   - Refresh-token rotation is settings.oauthClient.refresh_token
//     {rotation_type ROTATE|STATIC, leeway 0-60 seconds} on the app, and PUT
//     /api/v1/apps/{id} needs every property ("delta updates are not
//     supported"). GET /api/v1/apps accepts filter=name eq "oidc_client".
//   - GET .../credentials/keys lists keys with status ACTIVE, NEXT or
//     EXPIRED; POST .../credentials/lifecycle/keyRotate {"use":"sig"} makes the
//     NEXT key ACTIVE and the ACTIVE key EXPIRED, and only "sig" is accepted.
//     The org authorization server has no such API. Nothing here handles a
//     token encryption key: Okta authorization servers have none.
//   - Rate limits come as X-Rate-Limit-Limit, -Remaining and -Reset (UTC epoch
//     seconds, by Okta's clock); requests are traced by X-Okta-Request-Id.
//     Okta's SDKs wait Reset minus the answer's Date header after a 429,
//     and so does the HTTP client here, so a skewed local clock neither
//     stalls a run nor retries too early.
//   - Next-page Link headers are absolute URLs. An org reached through a
//     custom domain may name its okta.com host in them; Okta's SDKs keep the
//     configured org URL and take the link's path and query, and so does
//     this adapter (the admin credential only ever goes to the configured
//     org).
//
// # Unconfirmed
//
//   - The 429 body's errorCode E0000047 (from the project's provider notes).
//   - Whether keyRotate and the key list answer a bare array (the current
//     SDK) or {"keys":[...]} (the older reference's examples): both are read.
//   - refreshTokenWindowMinutes at most refreshTokenLifetimeMinutes (the Admin
//     Console's rule; checked here before sending).
//   - The answer for an unknown client on the user-client token endpoints
//     (treated as 404).
//   - Whether EXPIRED keys stay in /oauth2/{as}/v1/keys after a rotation.
//   - The org authorization server's fixed one-hour access tokens.
//   - An OIDC app's id equalling its client id unless a custom client id was
//     chosen (seen in the reference's examples); apps are therefore looked up
//     by id first and then by scanning OIDC apps for the client id.
package okta
