// A real OAuth 2.0 / OpenID Connect server for furrow's tests: panva's oidc-provider (pinned in package.json
// beside this file, installed by .ci/run into $FURROW_OIDC_DIR, default ~/.cache/furrow/oidc).
//
// Listens on 127.0.0.1 on a free port and prints one JSON line on stdout: {"issuer": ..., "port": ...}.
// Stops when stdin closes (the test that started it dropped it).
//
// Environment:
//   FURROW_OIDC_DIR          where `npm ci` installed oidc-provider (required)
//   FURROW_OIDC_CLIENTS      JSON list of clients: {client_id, client_secret, token_endpoint_auth_method,
//                            redirect_uris}; they get the authorization_code and refresh_token grants
//   FURROW_OIDC_RS_SECRET    secret of the `resource-server` client, which may only introspect (RFC 7662)
//   FURROW_OIDC_ACCESS_TTL   access-token lifetime, seconds (default 3600)
//
// Refresh tokens rotate on every use, and a rotated one presented again revokes its whole grant (the library's
// behaviour, RFC 9700 section 4.14). Logins and consents need no browser: /interaction/<uid> signs the next
// grower in and grants what the client asked for. GET /dev/log answers every refresh-token presentation
// (sha256 of the token, client, outcome) and every revoked grant, for the tests' assertions.

import http from 'node:http';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.FURROW_OIDC_DIR;
if (!dir) {
  console.error('FURROW_OIDC_DIR is not set: run .ci/run, which installs oidc-provider');
  process.exit(2);
}
const entry = pathToFileURL(join(dir, 'node_modules', 'oidc-provider', 'lib', 'index.js')).href;
const { default: Provider } = await import(entry);

const clients = JSON.parse(process.env.FURROW_OIDC_CLIENTS || '[]');
const rsSecret = process.env.FURROW_OIDC_RS_SECRET || 'resource-server-secret';
const accessTtl = Number(process.env.FURROW_OIDC_ACCESS_TTL || 3600);

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const log = { refreshes: [], revokedGrants: [], logins: 0 };
const sha256 = (v) => createHash('sha256').update(v).digest('hex');

const provider = new Provider(issuer, {
  clients: [
    ...clients.map((c) => ({
      ...c,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    })),
    {
      client_id: 'resource-server',
      client_secret: rsSecret,
      redirect_uris: [],
      response_types: [],
      grant_types: [],
    },
  ],
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: true },
    revocation: { enabled: true },
  },
  rotateRefreshToken: true,
  // Every grant of a client allowed the refresh_token grant gets one (the growers consent to offline access).
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: 60,
    Grant: 14 * 24 * 3600,
    IdToken: 3600,
    Interaction: 600,
    RefreshToken: 14 * 24 * 3600,
    Session: 3600,
  },
  cookies: { keys: ['furrow-oidc-test-cookie-key'] },
  findAccount: async (ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
});

function record(ctx, outcome) {
  const params = ctx.oidc?.params;
  if (params?.grant_type !== 'refresh_token' || !params.refresh_token) return;
  log.refreshes.push({
    client: ctx.oidc.client?.clientId ?? null,
    token: sha256(params.refresh_token),
    outcome,
  });
}
provider.on('grant.success', (ctx) => record(ctx, 'ok'));
provider.on('grant.error', (ctx, err) => record(ctx, err?.error ?? String(err)));
provider.on('grant.revoked', (ctx, grantId) => log.revokedGrants.push(grantId));

async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  let result;
  if (prompt.name === 'login') {
    log.logins += 1;
    result = { login: { accountId: `grower-${log.logins}` } };
  } else {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
server.on('request', (req, res) => {
  if (req.method === 'GET' && req.url === '/dev/log') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(log));
    return;
  }
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((e) => {
      res.statusCode = 500;
      res.end(String(e));
    });
    return;
  }
  callback(req, res);
});

process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
