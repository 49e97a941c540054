// One OpenID Connect scenario, run unchanged against Portcullis and against node
// `oidc-provider` (OpenID Certified; a devDependency, started here in-process with its
// development log-in and consent pages), so each expectation is checked against a certified
// implementation too: discovery, a code flow with PKCE and a nonce validated by openid-client,
// the ID token's claims, userinfo by scope, single-use codes. Where the specification leaves a
// choice (auth_time, at_hash from the token endpoint), the scenario accepts both and the
// Portcullis test pins what Portcullis does.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import * as client from 'openid-client';
import Provider from 'oidc-provider';
import { ISSUER, createApp, Browser, authorizeInBrowser, location, rand } from './lib.mjs';

const insecure = { execute: [client.allowInsecureRequests] };
const REDIRECT = 'https://parity.example/cb';

/** node oidc-provider on a free loopback port, with one confidential client. */
async function startReference() {
  const server = http.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const clientId = `ref-${rand(4)}`;
  const secret = rand(16);
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: secret, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, name: 'Interop Person', email: `${id}@example.com`, email_verified: false }),
    }),
    cookies: { keys: [rand(16)] },
    pkce: { required: () => true },
    features: { claimsParameter: { enabled: true } },
  });
  provider.proxy = false;
  server.on('request', provider.callback());
  return { issuer, clientId, secret, stop: () => new Promise((r) => server.close(r)) };
}

/** Through oidc-provider's development pages: any login, then consent. */
async function authorizeAtReference(browser, url) {
  let r = await browser.get(url);
  for (let i = 0; i < 10 && r.status >= 300 && r.status < 400; i++) {
    const next = new URL(location(r), url);
    if (next.origin + next.pathname === REDIRECT) return next;
    r = await browser.get(next);
    if (r.status === 200) {
      const html = await r.text();
      r = /name="login"/.test(html)
        ? await postForm(browser, next, html, { login: 'person-1', password: 'any' })
        : await postForm(browser, next, html, {});
    }
  }
  throw new Error(`the reference did not redirect back: ${r.status}`);
}

async function postForm(browser, pageUrl, html, visible) {
  const form = html.match(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/);
  assert.ok(form, html);
  const fields = new URLSearchParams();
  for (const [, n, v] of form[2].matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) fields.set(n, v);
  for (const [k, v] of Object.entries(visible)) fields.set(k, v);
  return browser.post(new URL(form[1], pageUrl), fields);
}

/** The scenario: the same assertions whichever provider answers. */
async function scenario({ issuer, clientId, secret, authorize }) {
  const config = await client.discovery(new URL(issuer), clientId, secret, undefined, insecure);
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, issuer);
  for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri', 'userinfo_endpoint']) {
    assert.ok(meta[field], `${field} in discovery`);
  }
  assert.ok(meta.response_types_supported.includes('code'));
  assert.ok(meta.subject_types_supported.includes('public'));
  assert.ok(meta.id_token_signing_alg_values_supported.includes('RS256'));
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const callback = await authorize(new Browser(), url);
  assert.equal(callback.searchParams.get('state'), state);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, issuer);
  assert.equal(claims.aud, clientId);
  assert.equal(claims.nonce, nonce);
  // auth_time is required only with max_age or require_auth_time (Core §2); when sent, sane.
  if (claims.auth_time !== undefined) assert.ok(claims.auth_time <= claims.iat);
  assert.ok(claims.exp > claims.iat);
  // at_hash is optional from the token endpoint (Core §3.1.3.6); when sent, the library checked it.
  // No refresh token without offline_access (both default to this).
  assert.equal(tokens.refresh_token, undefined);
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.sub, claims.sub);
  assert.equal(info.name, 'Interop Person');
  assert.equal(info.email, undefined, 'no email without the email scope');
  // The code is single use.
  await assert.rejects(
    client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state }),
    (e) => e.error === 'invalid_grant' || /invalid_grant/.test(String(e.cause?.error ?? e.message)),
  );
  return claims;
}

/** The `claims` parameter (Core §5.5): `name` asked for in the ID token and `email` at userinfo,
 * with only `openid` as scope; both providers release exactly those. */
async function claimsScenario({ issuer, clientId, secret, authorize }) {
  const config = await client.discovery(new URL(issuer), clientId, secret, undefined, insecure);
  assert.equal(config.serverMetadata().claims_parameter_supported, true);
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT,
    scope: 'openid',
    claims: JSON.stringify({ id_token: { name: null }, userinfo: { email: { essential: true } } }),
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
  });
  const callback = await authorize(new Browser(), url);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
  const claims = tokens.claims();
  assert.equal(claims.name, 'Interop Person', 'name in the ID token, as asked');
  assert.equal(claims.email, undefined, 'the email was asked for at userinfo only');
  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.match(info.email, /@example\.com$/);
  assert.equal(info.name, undefined, 'the name was asked for in the ID token only');
}

const reference = await startReference();
after(() => reference.stop());

test('the OpenID Connect scenario against node oidc-provider (the certified reference)', async () => {
  await scenario({ ...reference, authorize: authorizeAtReference });
});

test('the claims parameter against node oidc-provider', async () => {
  await claimsScenario({ ...reference, authorize: authorizeAtReference });
});

test('the same claims parameter scenario against Portcullis', async () => {
  const app = await createApp({ redirect_uris: [REDIRECT], scopes: ['public', 'email'] });
  await claimsScenario({
    issuer: ISSUER.replace(/\/$/, ''),
    clientId: app.client_id,
    secret: app.client_secret,
    authorize: (browser, url) => authorizeInBrowser(browser, url),
  });
});

test('the same OpenID Connect scenario against Portcullis', async () => {
  const app = await createApp({ redirect_uris: [REDIRECT], scopes: ['public'] });
  const claims = await scenario({
    issuer: ISSUER.replace(/\/$/, ''),
    clientId: app.client_id,
    secret: app.client_secret,
    authorize: (browser, url) => authorizeInBrowser(browser, url),
  });
  // Portcullis always says when the person logged in, and names the session.
  assert.equal(typeof claims.auth_time, 'number');
  assert.equal(typeof claims.sid, 'string');
  assert.equal(typeof claims.at_hash, 'string');
});
