// End-to-end test peer: panva's oidc-provider, configured from a JSON file
// written by the Go harness (internal/e2e/oidcpeer), listening on 127.0.0.1.
//
// stdout carries exactly one line, {"issuer":...,"pid":...}, once the server
// accepts requests; everything else goes to stderr.

import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { randomBytes } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';

const GRANT_DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const GRANT_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const TOKEN_TYPE_ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const TOKEN_TYPE_ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const TOKEN_TYPE_JWT = 'urn:ietf:params:oauth:token-type:jwt';

const log = (...args) => console.error('[oidcpeer]', ...args);

const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));

// The Go harness holds our stdin open; when the test process goes away (even
// by SIGKILL) the pipe closes and the peer exits instead of lingering as an
// orphan. Opt-in, so a peer started by hand with stdin at /dev/null stays up.
if (cfg.exitWithStdin) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

const server = cfg.tls
  ? https.createServer({
    cert: readFileSync(cfg.tls.cert),
    key: readFileSync(cfg.tls.key),
    ca: readFileSync(cfg.tls.ca),
    // RFC 8705 §2: the certificate is requested on every handshake but not
    // enforced by TLS, so that clients without one (discovery, browsers,
    // secret-based clients) still connect; tls_client_auth checks
    // socket.authorized against the CA itself.
    requestCert: true,
    rejectUnauthorized: false,
  })
  : http.createServer();

await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(cfg.port ?? 0, '127.0.0.1', resolve);
});

const { port } = server.address();
const issuer = `${cfg.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

const account = cfg.account;
const resourceServers = cfg.resourceServers ?? {};

function findAccount(_ctx, sub) {
  if (sub !== account.id) {
    return undefined;
  }
  return {
    accountId: sub,
    claims: async () => ({ sub, ...account.claims }),
  };
}

async function getResourceServerInfo(_ctx, indicator) {
  const rs = resourceServers[indicator];
  if (!rs) {
    throw new errors.InvalidTarget(`unknown resource indicator ${indicator}`);
  }
  return rs;
}

// RFC 4514 §2.1 writes the RDNs of a DN last-to-first, comma separated;
// node lists them first-to-last, one per line.
function subjectDN(cert) {
  return cert.subject.split('\n').reverse().join(',');
}

function peerCertificate(ctx) {
  return ctx.socket.getPeerX509Certificate?.();
}

function page(title, body) {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;
}

// Token lifetimes in seconds, chosen by the harness so tests can expire them.
const ttl = cfg.ttl;

// Optional protocol features, turned on per test by the harness.
const dpop = cfg.dpop ?? {};
const rarTypes = cfg.authorizationDetailsTypes ?? [];

// RFC 9396: every configured type is accepted as sent; the grant, access
// token and introspection answer carry the details the client asked for.
const richAuthorizationRequests = rarTypes.length === 0 ? { enabled: false } : {
  enabled: true,
  types: Object.fromEntries(rarTypes.map((type) => [type, {
    validate: async (_ctx, detail) => {
      if (detail.actions !== undefined && !detail.actions.every((a) => typeof a === 'string')) {
        throw new errors.InvalidAuthorizationDetails('actions must be strings');
      }
    },
  }])),
  authorizationDetailsForGrantSource: async (ctx) => (ctx.oidc.params.authorization_details
    ? JSON.parse(ctx.oidc.params.authorization_details) : undefined),
  authorizationDetailsForAccessToken: async (ctx, _token, source) => {
    if (ctx.oidc.params.authorization_details) {
      return JSON.parse(ctx.oidc.params.authorization_details);
    }
    return source?.rar;
  },
  authorizationDetailsForIntrospection: async (_ctx, token) => token.rar,
};

const configuration = {
  clients: cfg.clients,
  jwks: cfg.jwks,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  clockTolerance: cfg.clockTolerance,
  scopes: cfg.scopes,
  claims: cfg.claims,
  findAccount,
  // Only the code flow (RFC 9700 §2.1.2 retires the implicit grant).
  responseTypes: ['code'],
  interactions: {
    url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
  },
  // OAuth 2.1 / RFC 9700 §2.1.1: PKCE for every authorization code, not just
  // for public clients (oidc-provider's default).
  pkce: { required: () => true },
  rotateRefreshToken: true,
  // OIDC Core §11 has oidc-provider drop offline_access from an authorization
  // request that lacks prompt=consent, so a CLI login would never see a
  // refresh token. The peer follows what most IdPs do instead: a client
  // registered for refresh_token gets one from the code and device grants.
  issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
    && (code.scopes.has('offline_access')
      || ['authorization_code', GRANT_DEVICE_CODE].includes(ctx.oidc.params.grant_type)),
  // Tokens outlive the browser session: the harness throws its cookie jar
  // away after each flow.
  expiresWithSession: async () => false,
  ttl: {
    AccessToken: ttl.accessToken,
    ClientCredentials: ttl.accessToken,
    RefreshToken: ttl.refreshToken,
    DeviceCode: ttl.deviceCode,
    AuthorizationCode: 60,
    IdToken: ttl.accessToken,
    Interaction: 600,
    Session: 3600,
    Grant: Math.max(ttl.refreshToken, ttl.accessToken),
  },
  clientAuthMethods: [
    'client_secret_basic',
    'client_secret_post',
    'client_secret_jwt',
    'private_key_jwt',
    'none',
    ...(cfg.tls ? ['tls_client_auth'] : []),
  ],
  features: {
    devInteractions: { enabled: false },
    // RFC 9449. With a nonce secret every proof must carry a server nonce
    // (§8), the first request of a client is answered use_dpop_nonce.
    dPoP: dpop.nonceSecret ? {
      enabled: true,
      nonceSecret: Buffer.from(dpop.nonceSecret, 'base64url'),
      requireNonce: () => true,
    } : { enabled: true },
    // RFC 9126; requirePushedAuthorizationRequests refuses every plain
    // authorization request (and publishes
    // require_pushed_authorization_requests).
    pushedAuthorizationRequests: {
      enabled: true,
      requirePushedAuthorizationRequests: Boolean(cfg.requirePAR),
    },
    // RFC 9101 signed request objects; a client opts in to requiring them
    // with require_signed_request_object.
    requestObjects: { enabled: Boolean(cfg.requestObjects) },
    richAuthorizationRequests,
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    deviceFlow: {
      enabled: true,
      userCodeInputSource: async (ctx, form, _out, err) => {
        const msg = err ? `<p id="e2e-error">${err.name}</p>` : '';
        ctx.body = page('Device sign-in', `${msg}${form}`);
      },
      userCodeConfirmSource: async (ctx, form) => {
        ctx.body = page('Confirm device', form);
      },
      successSource: async (ctx) => {
        ctx.body = page('Device approved', '<p id="e2e-device-success">device approved</p>');
      },
    },
    resourceIndicators: {
      enabled: true,
      // Without a resource a token is opaque (RFC 8707 §2 leaves the default
      // to the AS); for a resource server it takes that server's format. A
      // code or refresh token granted for one resource keeps issuing tokens
      // for it when the token request names none, as audience-based IdPs do.
      useGrantedResource: async () => true,
      getResourceServerInfo,
    },
    mTLS: {
      enabled: Boolean(cfg.tls),
      tlsClientAuth: Boolean(cfg.tls),
      getCertificate: peerCertificate,
      certificateAuthorized: (ctx) => ctx.socket.authorized === true,
      // RFC 8705 §2.1.2: tls_client_auth_subject_dn is compared as a DN
      // string; the other SAN variants are not registered by the harness.
      certificateSubjectMatches: (ctx, property, expected) => {
        const cert = peerCertificate(ctx);
        return property === 'tls_client_auth_subject_dn' && !!cert && subjectDN(cert) === expected;
      },
    },
  },
  renderError: async (ctx, out) => {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `${out.error}: ${out.error_description ?? ''}`;
  },
};

const provider = new Provider(issuer, configuration);

// ---------------------------------------------------------------------------
// Extension grants through oidc-provider's registerGrantType.

const assertionKeys = jose.createLocalJWKSet(cfg.assertion.jwks);
const providerKeys = jose.createLocalJWKSet({
  keys: cfg.jwks.keys.map(({ d, p, q, dp, dq, qi, ...pub }) => pub),
});

function requestedScopes(ctx) {
  return [...new Set((ctx.oidc.params.scope ?? '').split(' ').filter(Boolean))];
}

// Issues an access token to the authenticated client for accountId (a user),
// or a client-credentials token when accountId is undefined. With a resource
// indicator the token is audience-restricted to it and carries only that
// resource server's scopes (RFC 8707 §2.2); without one, only scopes the
// provider knows are kept.
async function issueAccessToken(ctx, { accountId, resource, scopes, gty }) {
  const { client } = ctx.oidc;
  let resourceServer;
  let scope = scopes.filter((s) => cfg.scopes.includes(s));
  if (resource) {
    const info = await getResourceServerInfo(ctx, resource);
    resourceServer = new provider.ResourceServer(resource, info);
    scope = scopes.filter((s) => resourceServer.scopes.has(s));
  }

  let token;
  if (accountId) {
    // Introspection only answers active for a user token whose Grant exists
    // and names the same client and account.
    const grant = new provider.Grant({ accountId, clientId: client.clientId });
    if (resource) {
      grant.addResourceScope(resource, scope.join(' '));
    } else if (scope.length) {
      grant.addOIDCScope(scope.join(' '));
    }
    const grantId = await grant.save();
    token = new provider.AccessToken({
      accountId, client, grantId, gty, scope: scope.join(' ') || undefined,
    });
    ctx.oidc.entity('AccessToken', token);
  } else {
    token = new provider.ClientCredentials({ client, scope: scope.join(' ') || undefined });
    ctx.oidc.entity('ClientCredentials', token);
  }
  if (resourceServer) {
    token.resourceServer = resourceServer;
  }
  const value = await token.save();
  return {
    access_token: value,
    token_type: token.tokenType,
    expires_in: token.expiration,
    scope: token.scope || undefined,
  };
}

function singleResource(ctx, ...names) {
  const targets = new Set(names.flatMap((n) => {
    const v = ctx.oidc.params[n];
    if (v === undefined) return [];
    return Array.isArray(v) ? v : [v];
  }));
  if (targets.size > 1) {
    throw new errors.InvalidTarget('only one resource or audience is supported');
  }
  const [target] = targets;
  if (target !== undefined && !resourceServers[target]) {
    throw new errors.InvalidTarget('unknown resource or audience');
  }
  return target;
}

// RFC 7523 §2.1: a JWT as an authorization grant.
async function jwtBearerGrant(ctx) {
  const { assertion } = ctx.oidc.params;
  if (!assertion) {
    throw new errors.InvalidRequest("missing required parameter 'assertion'");
  }
  let payload;
  try {
    // RFC 7523 §3 items 1-5: iss names a trusted issuer, sub the principal,
    // aud this authorization server (issuer or token endpoint), exp is set
    // and not passed; the signature is checked with that issuer's key (§3
    // item 9).
    ({ payload } = await jose.jwtVerify(assertion, assertionKeys, {
      issuer: cfg.assertion.issuer,
      audience: [provider.issuer, provider.urlFor('token')],
      requiredClaims: ['iss', 'sub', 'aud', 'exp'],
      clockTolerance: cfg.clockTolerance,
    }));
  } catch (err) {
    // RFC 7523 §3.1: a JWT that is not valid is an invalid_grant.
    throw new errors.InvalidGrant(`invalid assertion (${err.code ?? 'malformed'})`);
  }
  // RFC 7523 §3 item 7: a jti, when present, is not accepted twice.
  if (payload.jti !== undefined
    && !await provider.ReplayDetection.unique(payload.iss, payload.jti, payload.exp + cfg.clockTolerance)) {
    throw new errors.InvalidGrant('assertion replayed');
  }
  if (!await findAccount(ctx, payload.sub)) {
    throw new errors.InvalidGrant('assertion subject is unknown');
  }
  ctx.body = await issueAccessToken(ctx, {
    accountId: payload.sub,
    resource: singleResource(ctx, 'resource'),
    scopes: requestedScopes(ctx),
    gty: 'jwt_bearer',
  });
}

// Resolves a subject_token to the principal it was issued for: an opaque
// token is looked up in the provider's store; a JWT access token (which
// oidc-provider does not store) is verified against the provider's own keys.
async function subjectOf(value) {
  const at = await provider.AccessToken.find(value);
  if (at?.isValid) return { accountId: at.accountId };
  const cc = await provider.ClientCredentials.find(value);
  if (cc?.isValid) return { clientId: cc.clientId };
  try {
    const { payload } = await jose.jwtVerify(value, providerKeys, {
      issuer: provider.issuer,
      typ: 'at+jwt',
      clockTolerance: cfg.clockTolerance,
    });
    return payload.sub === payload.client_id ? { clientId: payload.client_id } : { accountId: payload.sub };
  } catch {
    return undefined;
  }
}

// Resolves a subject_token of type id_token or jwt (a CI system's identity
// token) issued by the trusted assertion issuer: signature, iss, aud (this
// provider), exp and a known sub, as for the jwt-bearer grant.
async function federatedSubjectOf(ctx, value) {
  try {
    const { payload } = await jose.jwtVerify(value, assertionKeys, {
      issuer: cfg.assertion.issuer,
      audience: [provider.issuer, provider.urlFor('token')],
      requiredClaims: ['iss', 'sub', 'aud', 'exp'],
      clockTolerance: cfg.clockTolerance,
    });
    if (!await findAccount(ctx, payload.sub)) return undefined;
    return { accountId: payload.sub };
  } catch {
    return undefined;
  }
}

// RFC 8693 §2.1: exchange an access token this provider issued, or an
// id_token/jwt of the trusted assertion issuer (a CI identity token), for a new
// access token aimed at another audience/resource and scope. Impersonation
// only; actor tokens (delegation, §1.1) are not supported.
async function tokenExchangeGrant(ctx) {
  const {
    subject_token: subjectToken,
    subject_token_type: subjectTokenType,
    requested_token_type: requestedTokenType,
    actor_token: actorToken,
  } = ctx.oidc.params;
  if (!subjectToken || !subjectTokenType) {
    throw new errors.InvalidRequest('subject_token and subject_token_type are required');
  }
  // RFC 8693 §2.2.2: an unacceptable or invalid request or subject token is
  // an invalid_request.
  const federated = [TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT].includes(subjectTokenType);
  if (subjectTokenType !== TOKEN_TYPE_ACCESS_TOKEN && !federated) {
    throw new errors.InvalidRequest('unsupported subject_token_type');
  }
  if (requestedTokenType !== undefined && requestedTokenType !== TOKEN_TYPE_ACCESS_TOKEN) {
    throw new errors.InvalidRequest('unsupported requested_token_type');
  }
  if (actorToken !== undefined) {
    throw new errors.InvalidRequest('actor_token is not supported');
  }
  const subject = federated
    ? await federatedSubjectOf(ctx, subjectToken)
    : await subjectOf(subjectToken);
  if (!subject) {
    throw new errors.InvalidRequest('subject_token is invalid or expired');
  }
  const body = await issueAccessToken(ctx, {
    accountId: subject.accountId,
    // RFC 8693 §2.1: audience is a logical name of the target service; this
    // peer only knows its resource servers, so both parameters name one.
    resource: singleResource(ctx, 'resource', 'audience'),
    scopes: requestedScopes(ctx),
    gty: 'token_exchange',
  });
  // RFC 8693 §2.2.1: issued_token_type is required in the response.
  ctx.body = { ...body, issued_token_type: TOKEN_TYPE_ACCESS_TOKEN };
}

provider.registerGrantType(GRANT_JWT_BEARER, jwtBearerGrant, ['assertion', 'scope', 'resource']);
provider.registerGrantType(
  GRANT_TOKEN_EXCHANGE,
  tokenExchangeGrant,
  ['subject_token', 'subject_token_type', 'actor_token', 'actor_token_type',
    'requested_token_type', 'audience', 'resource', 'scope'],
  // RFC 8693 §2.1 allows several audience and resource values.
  ['audience', 'resource'],
);

// ---------------------------------------------------------------------------
// Test-only routes and counters.

function zeroStats() {
  return {
    token_requests: {}, revocations: 0, introspections: 0, grants_revoked: 0,
  };
}
let stats = zeroStats();

provider.on('grant.revoked', () => { stats.grants_revoked += 1; });
provider.on('server_error', (_ctx, err) => log('server_error', err));

const tokenPath = new URL(provider.urlFor('token')).pathname;
const revocationPath = new URL(provider.urlFor('revocation')).pathname;
const introspectionPath = new URL(provider.urlFor('introspection')).pathname;
const BODY_LIMIT = 56 * 1024;

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > BODY_LIMIT) {
      throw new Error('request body too large');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

// Counts every token request by grant_type before oidc-provider handles it,
// so failed requests (a replayed refresh token, a bad client secret) count
// too. The body is read here and handed on as req.body, which oidc-provider
// accepts from upstream parsers (it logs a one-time notice about it).
async function countTokenRequest(ctx) {
  let grantType = '';
  if (ctx.is('application/x-www-form-urlencoded')) {
    const raw = await readBody(ctx.req);
    ctx.req.body = raw;
    grantType = new URLSearchParams(raw.toString('utf8')).get('grant_type') ?? '';
  }
  stats.token_requests[grantType] = (stats.token_requests[grantType] ?? 0) + 1;
}

// Auto-approving interactions: the first prompt logs in the fixed account,
// the second consents to whatever the client asked for.
async function interaction(ctx) {
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { prompt, params, session } = details;
  let result;
  switch (prompt.name) {
    case 'login':
      result = { login: { accountId: account.id } };
      break;
    case 'consent': {
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
      const {
        missingOIDCScope, missingOIDCClaims, missingResourceScopes,
      } = prompt.details;
      if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
      if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
      for (const detail of prompt.details.rar ?? []) {
        grant.addRar(detail);
      }
      const grantId = await grant.save();
      result = { consent: details.grantId ? {} : { grantId } };
      break;
    }
    default:
      throw new Error(`unexpected interaction prompt ${prompt.name}`);
  }
  // interactionFinished answers on the raw response (303 to the resume URL).
  await provider.interactionFinished(ctx.req, ctx.res, result);
  ctx.respond = false;
}

provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/test/stats') {
    ctx.body = stats;
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/test/reset') {
    stats = zeroStats();
    ctx.status = 204;
    return;
  }
  if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
    await interaction(ctx);
    return;
  }
  if (ctx.method === 'POST') {
    switch (ctx.path) {
      case tokenPath:
        await countTokenRequest(ctx);
        // A broken IdP for fault tests: every proof is answered with a
        // demand for yet another nonce (RFC 9449 §8).
        if (dpop.nonceLoop && ctx.get('DPoP')) {
          ctx.status = 400;
          ctx.set('DPoP-Nonce', randomBytes(16).toString('base64url'));
          ctx.set('Cache-Control', 'no-store');
          ctx.body = { error: 'use_dpop_nonce', error_description: 'a new nonce is required' };
          return;
        }
        break;
      case revocationPath:
        stats.revocations += 1;
        break;
      case introspectionPath:
        stats.introspections += 1;
        break;
      default:
    }
  }
  await next();
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer, pid: process.pid })}\n`);
log(`listening at ${issuer}`);
