// node `oidc-provider` (a devDependency, OpenID Certified) as the identity provider people
// sign in with ("sign in with another provider"), for tests/interop/upstream.test.mjs.
// Started by tests/interop/run.sh before the worker, which is given UPSTREAM_PROVIDERS
// naming it. Its development log-in page takes any login name; the account's claims follow
// the name: `<name>@example.com`, email verified unless the name starts with `unverified`.
//
//   node tests/interop/upstream_idp.mjs PORT REDIRECT_URI CLIENT_ID CLIENT_SECRET

import http from 'node:http';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const [port, redirect, clientId, secret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const provider = new Provider(issuer, {
  clients: [{ client_id: clientId, client_secret: secret, redirect_uris: [redirect], grant_types: ['authorization_code'], response_types: ['code'] }],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  findAccount: async (_ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, name: `Upstream ${id}`, email: `${id}@example.com`, email_verified: !id.startsWith('unverified') }),
  }),
  cookies: { keys: [randomBytes(16).toString('hex')] },
  pkce: { required: () => true },
});
provider.proxy = false;
// Quiet: the worker's log is what a failure shows.
provider.on('server_error', (_ctx, err) => console.error('[idp] server_error', err));
const server = http.createServer(provider.callback());
server.listen(Number(port), '127.0.0.1', () => console.log(`[idp] ready at ${issuer}`));
// Gone with the runner that started it (IDP_PARENT), however that one ended.
const parent = Number(process.env.IDP_PARENT || 0);
if (parent) {
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      process.exit(0);
    }
  }, 1000).unref();
}
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
