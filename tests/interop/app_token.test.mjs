// Interop: an app-token client written with `jose` (a general-purpose JOSE library), not with
// the server's own signing code. The app signs a short-lived RS256 JWT with its private key and
// exchanges it at `POST /application/token` (Authorization: Bearer <JWT>, no body), or with the
// RFC 7523 jwt-bearer grant at the token endpoint. Issued tokens are verified with `jose`
// against the published JWKS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as jose from 'jose';
import { ISSUER, createApp, admin } from './lib.mjs';

const JWKS = jose.createRemoteJWKSet(new URL(`${ISSUER}/.well-known/jwks.json`));
const METADATA = await (await fetch(`${ISSUER}/.well-known/oauth-authorization-server`)).json();

/** Verifies an access token as a resource server would (advertised alg, at+jwt, iss, aud). */
async function verify(token) {
  const { payload, protectedHeader } = await jose.jwtVerify(token, JWKS, {
    issuer: ISSUER,
    audience: ISSUER,
    algorithms: METADATA.access_token_signing_alg_values_supported,
    typ: 'at+jwt',
    requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id'],
  });
  assert.ok(protectedHeader.kid);
  return payload;
}

/** The app's assertion: iss = client id, fresh jti, iat, exp 5 minutes later. */
function assertion(clientId, key, { kid, aud, sub, jti = randomUUID() } = {}) {
  const jwt = new jose.SignJWT({})
    .setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}) })
    .setIssuer(clientId)
    .setIssuedAt()
    .setExpirationTime('5m')
    .setJti(jti);
  if (aud) jwt.setAudience(aud);
  if (sub) jwt.setSubject(sub);
  return jwt.sign(key);
}

async function appToken(jwt) {
  const r = await fetch(`${ISSUER}/application/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}` },
  });
  return [r.status, await r.json(), r];
}

test('app token: a key made with jose, registered with the admin API', async () => {
  const { publicKey, privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const publicJwk = await jose.exportJWK(publicKey);
  const kid = await jose.calculateJwkThumbprint(publicJwk);
  const app = await createApp({ public_key: publicJwk, scopes: ['public', 'users:read'] });

  const jwt = await assertion(app.client_id, privateKey, { kid });
  const [status, body, r] = await appToken(jwt);
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.equal(body.token_type, 'Bearer');
  assert.ok(body.expires_in > 0);
  assert.ok(!Number.isNaN(Date.parse(body.expires_at)));
  const claims = await verify(body.access_token);
  assert.equal(claims.client_id, app.client_id);
  assert.equal(claims.scope, body.scope);

  // The same assertion is accepted once.
  const [replayed, err] = await appToken(jwt);
  assert.equal(replayed, 401, JSON.stringify(err));
  assert.equal(err.error, 'invalid_token');

  // Without a kid the server tries the app's keys; an `aud` naming the server is accepted.
  const [s2, b2] = await appToken(await assertion(app.client_id, privateKey, { aud: ISSUER }));
  assert.equal(s2, 200, JSON.stringify(b2));
  await verify(b2.access_token);

  // A key the app never registered is refused.
  const stranger = await jose.generateKeyPair('RS256');
  const [s3, b3] = await appToken(await assertion(app.client_id, stranger.privateKey));
  assert.equal(s3, 401, JSON.stringify(b3));
});

test('app token: the private key the admin API generates (PKCS#8 PEM), then jwt-bearer', async () => {
  const app = await createApp({ key: 'generate', grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'] });
  assert.match(app.private_key, /^-----BEGIN PRIVATE KEY-----/);
  const key = await jose.importPKCS8(app.private_key, 'RS256');
  const [status, body] = await appToken(await assertion(app.client_id, key));
  assert.equal(status, 200, JSON.stringify(body));
  await verify(body.access_token);

  // RFC 7523 jwt-bearer grant: aud is required and names the server.
  const r = await fetch(`${ISSUER}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: await assertion(app.client_id, key, { aud: `${ISSUER}/oauth/token`, sub: app.client_id }),
    }),
  });
  const t = await r.json();
  assert.equal(r.status, 200, JSON.stringify(t));
  const claims = await verify(t.access_token);
  assert.equal(claims.client_id, app.client_id);

  // Removing the key ends tokens obtained with it (liveness via introspection).
  const [, before] = await admin('GET', `/admin/apps/${app.client_id}`);
  const kid = before.keys[0].kid;
  const [del] = await admin('DELETE', `/admin/apps/${app.client_id}/keys/${kid}`);
  assert.ok(del === 200 || del === 204, `DELETE key: ${del}`);
  const ir = await fetch(`${ISSUER}/oauth/introspect`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${process.env.ADMIN_TOKEN}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token: body.access_token }),
  });
  assert.deepEqual(await ir.json(), { active: false });
});
