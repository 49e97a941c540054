// Interop: oauth4webapi (panva's strict, spec-compliant OAuth 2 client) against the running
// worker. The library is used as documented, with its default strictness.
//
// The ONE relaxation: in development the issuer is `http://127.0.0.1:<port>` and oauth4webapi
// refuses plain-http endpoints unless a request passes `[oauth.allowInsecureRequests]: true`.
// Every request below passes it (`insecure`); nothing else is switched off. In production the
// issuer is https and the option is not needed.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import * as jose from 'jose';
import { ISSUER, createApp, rand, Browser, authorizeInBrowser, admin, signUpAndLogIn } from './lib.mjs';

/** The one allowed relaxation: http in development. */
const insecure = { [oauth.allowInsecureRequests]: true };
const issuer = new URL(ISSUER);
/** Authorization server metadata, discovered once (RFC 8414). */
let as;

before(async () => {
  const r = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
  as = await oauth.processDiscoveryResponse(issuer, r);
});

/** RFC 9068 validation of an access token with the library's helper against our JWKS. */
async function validateAccessToken(token, audience = ISSUER) {
  const req = new Request(`${ISSUER}/api/anything`, { headers: { authorization: `Bearer ${token}` } });
  // Only the algorithms the server says it signs access tokens with (RS256 by default).
  return oauth.validateJwtAccessToken(as, req, audience, {
    ...insecure,
    signingAlgorithms: as.access_token_signing_alg_values_supported,
  });
}

async function clientCredentials(client, auth, params) {
  const r = await oauth.clientCredentialsGrantRequest(as, client, auth, params, insecure);
  return oauth.processClientCredentialsResponse(as, client, r);
}

/** Refreshes with `tokens.refresh_token`, validates the new access token, then revokes the
 * refreshed pair's `revoke` token ('access_token' or 'refresh_token'). */
async function refreshThenRevoke(client, auth, tokens, revoke) {
  const rr = await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token, insecure);
  const refreshed = await oauth.processRefreshTokenResponse(as, client, rr);
  await validateAccessToken(refreshed.access_token);
  const rv = await oauth.revocationRequest(as, client, auth, refreshed[revoke], insecure);
  await oauth.processRevocationResponse(rv);
}

async function introspect(client, auth, token) {
  const r = await oauth.introspectionRequest(as, client, auth, token, insecure);
  return oauth.processIntrospectionResponse(as, client, r);
}

/**
 * Authorization code + PKCE S256 through the real sign-up, log-in and consent pages. `consent`
 * as in authorizeInBrowser: true = the consent page must be shown, false = it must be skipped.
 */
async function codeFlow({ client, auth, redirectUri, scope, browser = new Browser(), consent }) {
  const verifier = oauth.generateRandomCodeVerifier();
  const challenge = await oauth.calculatePKCECodeChallenge(verifier);
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const callback = await authorizeInBrowser(browser, url, {}, { consent });
  // The library's own validation of the authorization response: state and RFC 9207 iss.
  const params = oauth.validateAuthResponse(as, client, callback, state);
  assert.throws(() => oauth.validateAuthResponse(as, client, callback, oauth.generateRandomState()));
  const r = await oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, verifier, insecure);
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, r);
  return { tokens, browser, callback };
}

test('RFC 8414 discovery from the issuer URL', async () => {
  assert.equal(as.issuer, ISSUER);
  assert.ok(as.code_challenge_methods_supported.includes('S256'));
  assert.equal(as.authorization_response_iss_parameter_supported, true);
  for (const m of ['client_secret_basic', 'client_secret_post', 'private_key_jwt']) {
    assert.ok(as.token_endpoint_auth_methods_supported.includes(m), m);
  }
  // A wrong expected issuer is caught by the library.
  const r = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
  await assert.rejects(oauth.processDiscoveryResponse(new URL('http://127.0.0.1:1'), r));
});

test('RFC 9728 protected resource metadata names this authorization server', async () => {
  const r = await oauth.resourceDiscoveryRequest(issuer, insecure);
  const rs = await oauth.processResourceDiscoveryResponse(issuer, r);
  assert.deepEqual(rs.authorization_servers, [ISSUER]);
});

test('client_credentials with client_secret_basic, token validated as RFC 9068', async () => {
  const app = await createApp({ trusted: true, scopes: ['public', 'users:read'] });
  const client = { client_id: app.client_id };
  const t = await clientCredentials(client, oauth.ClientSecretBasic(app.client_secret), { scope: 'users:read' });
  assert.equal(t.token_type, 'bearer');
  assert.equal(t.scope, 'users:read');
  assert.ok(t.expires_in > 0);
  const claims = await validateAccessToken(t.access_token);
  assert.equal(claims.client_id, app.client_id);
  assert.equal(claims.iss, ISSUER);
  assert.equal(claims.scope, 'users:read');
  // Wrong secret: the library surfaces the server's invalid_client (a 401 with a Basic challenge).
  const r = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic('wrong'), {}, insecure);
  await assert.rejects(oauth.processClientCredentialsResponse(as, client, r), (e) => {
    assert.ok(e instanceof oauth.WWWAuthenticateChallengeError, String(e));
    assert.equal(e.status, 401);
    assert.equal(e.cause[0].scheme, 'basic');
    return true;
  });
});

test('client_credentials with client_secret_post', async () => {
  const app = await createApp({ trusted: true, scopes: ['public'] });
  const client = { client_id: app.client_id, token_endpoint_auth_method: 'client_secret_post' };
  const t = await clientCredentials(client, oauth.ClientSecretPost(app.client_secret), {});
  assert.equal(t.token_type, 'bearer');
  const claims = await validateAccessToken(t.access_token);
  assert.equal(claims.client_id, app.client_id);
  assert.equal(typeof claims.sub, 'string');
});

test('JWT access token validation: wrong audience and tampered tokens are refused', async () => {
  const app = await createApp({ trusted: true, scopes: ['public'] });
  const client = { client_id: app.client_id };
  const t = await clientCredentials(client, oauth.ClientSecretBasic(app.client_secret), {});
  await validateAccessToken(t.access_token);
  await assert.rejects(validateAccessToken(t.access_token, 'https://other.example'));
  const [h, p, s] = t.access_token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  claims.scope = 'users:write';
  const forged = [h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.');
  await assert.rejects(validateAccessToken(forged));
});

test('authorization code + PKCE S256 (web app, client_secret_basic), refresh, introspection, revocation', async () => {
  const redirectUri = 'https://web.example/callback';
  const app = await createApp({ redirect_uris: [redirectUri], scopes: ['public', 'users:read'] });
  const client = { client_id: app.client_id };
  const auth = oauth.ClientSecretBasic(app.client_secret);
  const { tokens, browser } = await codeFlow({ client, auth, redirectUri, scope: 'public users:read', consent: true });
  assert.equal(tokens.token_type, 'bearer');
  assert.equal(tokens.scope, 'public users:read');
  assert.equal(typeof tokens.refresh_token, 'string');
  const claims = await validateAccessToken(tokens.access_token);
  assert.equal(claims.client_id, app.client_id);
  assert.notEqual(claims.sub, app.client_id);

  // Userinfo: the library checks the subject matches. `public` releases the name (and
  // created_at), not the email: that needs the `email` scope.
  const ui = await oauth.userInfoRequest(as, client, tokens.access_token, insecure);
  const profile = await oauth.processUserInfoResponse(as, client, claims.sub, ui);
  assert.equal(profile.name, 'Interop Person');
  assert.equal(typeof profile.created_at, 'number');
  assert.equal(profile.email, undefined, JSON.stringify(profile));

  // Introspection (client_secret_basic), as the client itself.
  const active = await introspect(client, auth, tokens.access_token);
  assert.equal(active.active, true);
  assert.equal(active.client_id, app.client_id);
  assert.equal(active.sub, claims.sub);
  assert.equal(active.token_type, 'Bearer');

  // Refresh rotates the refresh token; narrowing the scope is allowed.
  const rr = await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token, {
    ...insecure,
    additionalParameters: { scope: 'public' },
  });
  const refreshed = await oauth.processRefreshTokenResponse(as, client, rr);
  assert.equal(refreshed.scope, 'public');
  assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
  await validateAccessToken(refreshed.access_token);

  // The rotated-out refresh token is refused with invalid_grant.
  const again = await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token, insecure);
  await assert.rejects(oauth.processRefreshTokenResponse(as, client, again), (e) => {
    assert.ok(e instanceof oauth.ResponseBodyError, String(e));
    assert.equal(e.error, 'invalid_grant');
    return true;
  });
  // … and that reuse ended the whole grant, including the current access token.
  assert.equal((await introspect(client, auth, refreshed.access_token)).active, false);

  // Revocation of an access token (RFC 7009), then introspection says inactive.
  // Presenting a rotated-out token ends the whole grant (reuse detection), so start a new one:
  // a confidential client's consent is remembered, so the same browser goes straight back
  // with a code.
  const { tokens: fresh } = await codeFlow({ client, auth, redirectUri, scope: 'public', browser, consent: false });
  let rv = await oauth.revocationRequest(as, client, auth, fresh.access_token, {
    ...insecure,
    additionalParameters: { token_type_hint: 'access_token' },
  });
  await oauth.processRevocationResponse(rv);
  assert.equal((await introspect(client, auth, fresh.access_token)).active, false);

  // Revoking the refresh token ends the grant.
  rv = await oauth.revocationRequest(as, client, auth, fresh.refresh_token, {
    ...insecure,
    additionalParameters: { token_type_hint: 'refresh_token' },
  });
  await oauth.processRevocationResponse(rv);
  const dead = await oauth.refreshTokenGrantRequest(as, client, auth, fresh.refresh_token, insecure);
  await assert.rejects(oauth.processRefreshTokenResponse(as, client, dead), /invalid_grant|ResponseBodyError/);

  // Revoking an unknown token is still 200 (RFC 7009 §2.2).
  rv = await oauth.revocationRequest(as, client, auth, `unknown-${rand()}`, insecure);
  await oauth.processRevocationResponse(rv);
});

test('authorization code + PKCE S256, public native client (custom scheme, auth none), refresh', async () => {
  const redirectUri = 'com.example.interop:/oauth/callback';
  const app = await createApp({
    redirect_uris: [redirectUri],
    token_endpoint_auth_method: 'none',
    scopes: ['public'],
  });
  assert.equal(app.client_secret, undefined);
  const client = { client_id: app.client_id, token_endpoint_auth_method: 'none' };
  const auth = oauth.None();
  const { tokens, callback, browser } = await codeFlow({ client, auth, redirectUri, scope: 'public', consent: true });
  assert.equal(callback.protocol, 'com.example.interop:');
  await validateAccessToken(tokens.access_token);
  // A public client may revoke its own tokens (auth none).
  await refreshThenRevoke(client, auth, tokens, 'refresh_token');
  // Consent is not remembered for a public client (RFC 8252 §8.6: another app on the device
  // could claim its redirect URI): the same person, same scope, sees the consent page again.
  const again = await codeFlow({ client, auth, redirectUri, scope: 'public', browser, consent: true });
  await validateAccessToken(again.tokens.access_token);
});

test('userinfo releases claims by scope: name with public, email with email or users:read_by_email', async () => {
  const redirectUri = 'https://claims.example/cb';
  const app = await createApp({ redirect_uris: [redirectUri], scopes: ['public', 'email', 'users:read_by_email', 'users:read'] });
  const client = { client_id: app.client_id };
  const auth = oauth.ClientSecretBasic(app.client_secret);
  const browser = new Browser();
  const userinfo = async (scope) => {
    const { tokens } = await codeFlow({ client, auth, redirectUri, scope, browser });
    assert.equal(tokens.scope, scope);
    const { sub } = await validateAccessToken(tokens.access_token);
    const r = await oauth.userInfoRequest(as, client, tokens.access_token, insecure);
    return oauth.processUserInfoResponse(as, client, sub, r);
  };
  const email = await userinfo('email');
  // OpenID Connect's `email` scope: the email and whether it is verified (accounts are not yet).
  assert.deepEqual(Object.keys(email).sort(), ['email', 'email_verified', 'sub'], JSON.stringify(email));
  assert.equal(email.email_verified, false);
  assert.match(email.email, /^interop-[0-9a-f]+@example\.com$/, 'the email, normalised');
  const pub = await userinfo('public');
  assert.deepEqual(Object.keys(pub).sort(), ['created_at', 'name', 'sub'], JSON.stringify(pub));
  assert.equal(pub.name, 'Interop Person');
  assert.equal(pub.sub, email.sub);
  const byEmail = await userinfo('users:read_by_email');
  assert.deepEqual(Object.keys(byEmail).sort(), ['email', 'sub'], JSON.stringify(byEmail));
  const neither = await userinfo('users:read');
  assert.deepEqual(Object.keys(neither), ['sub'], JSON.stringify(neither));
  const both = await userinfo('public email');
  assert.deepEqual(Object.keys(both).sort(), ['created_at', 'email', 'email_verified', 'name', 'sub'], JSON.stringify(both));
});

test('the person denies consent: the library reports access_denied (with state and iss checked)', async () => {
  const redirectUri = 'https://web.example/denied';
  const app = await createApp({ redirect_uris: [redirectUri], scopes: ['public'] });
  const client = { client_id: app.client_id };
  const browser = new Browser();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint);
  const verifier = oauth.generateRandomCodeVerifier();
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: redirectUri,
    scope: 'public',
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  // Not signed in: to the log-in page; sign up there, log in, and back to the consent page.
  let r = await browser.get(url);
  assert.equal(r.status, 303);
  const signup = new URL(r.headers.get('location'), ISSUER);
  assert.equal(signup.pathname, '/login');
  signup.pathname = '/signup';
  r = await signUpAndLogIn(browser, signup, { name: 'Denier', email: `deny-${rand()}@example.com` });
  r = await browser.get(new URL(r.headers.get('location'), ISSUER));
  assert.equal(r.status, 200);
  r = await browser.submit(await r.text(), { decision: 'deny' });
  assert.equal(r.status, 302);
  const callback = new URL(r.headers.get('location'));
  assert.throws(
    () => oauth.validateAuthResponse(as, client, callback, state),
    (e) => e instanceof oauth.AuthorizationResponseError && e.error === 'access_denied',
  );
});

test('private_key_jwt with a key the library generates (admin API), client_credentials and introspection', async () => {
  const { privateKey, publicKey } = await oauth.generateKeyPair('RS256', { extractable: true });
  const jwk = await crypto.subtle.exportKey('jwk', publicKey);
  const publicJwk = { kty: jwk.kty, n: jwk.n, e: jwk.e };
  const kid = await jose.calculateJwkThumbprint(publicJwk);
  const app = await createApp({
    trusted: true,
    scopes: ['public'],
    public_key: publicJwk,
    token_endpoint_auth_method: 'private_key_jwt',
  });
  const client = { client_id: app.client_id, token_endpoint_auth_method: 'private_key_jwt' };
  // Without a kid in the header (the server tries the app's keys) …
  let t = await clientCredentials(client, oauth.PrivateKeyJwt(privateKey), {});
  let claims = await validateAccessToken(t.access_token);
  assert.equal(claims.client_id, app.client_id);
  // … and with the RFC 7638 thumbprint as kid, which is the kid the server derives.
  const auth = oauth.PrivateKeyJwt({ key: privateKey, kid });
  t = await clientCredentials(client, auth, { scope: 'public' });
  claims = await validateAccessToken(t.access_token);
  assert.equal(claims.scope, 'public');
  const info = await introspect(client, auth, t.access_token);
  assert.equal(info.active, true);
  assert.equal(info.client_id, app.client_id);
  // A key the app never registered is refused.
  const other = await oauth.generateKeyPair('RS256');
  const r = await oauth.clientCredentialsGrantRequest(as, client, oauth.PrivateKeyJwt(other.privateKey), {}, insecure);
  await assert.rejects(oauth.processClientCredentialsResponse(as, client, r), (e) => {
    assert.equal(e.error ?? e.cause?.error, 'invalid_client', String(e));
    return true;
  });
});

test('RFC 7591 registration with jwks, then authorization code + PKCE with private_key_jwt', async () => {
  const { privateKey, publicKey } = await oauth.generateKeyPair('RS256', { extractable: true });
  const jwk = await crypto.subtle.exportKey('jwk', publicKey);
  const redirectUri = 'https://dcr.example/cb';
  const reg = await oauth.dynamicClientRegistrationRequest(
    as,
    {
      client_name: `interop dcr ${rand(3)}`,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ kty: jwk.kty, n: jwk.n, e: jwk.e, alg: 'RS256', use: 'sig' }] },
      scope: 'public',
    },
    insecure,
  );
  const registered = await oauth.processDynamicClientRegistrationResponse(reg);
  assert.equal(registered.token_endpoint_auth_method, 'private_key_jwt');
  assert.equal(typeof registered.registration_access_token, 'string');
  const client = { client_id: registered.client_id, token_endpoint_auth_method: 'private_key_jwt' };
  const auth = oauth.PrivateKeyJwt(privateKey);
  const { tokens } = await codeFlow({ client, auth, redirectUri, scope: 'public' });
  await validateAccessToken(tokens.access_token);
  await refreshThenRevoke(client, auth, tokens, 'access_token');
  const [, info] = await admin('GET', `/admin/apps/${registered.client_id}`);
  assert.equal(info.client_id, registered.client_id);
  // A registered client is self-service: scopes limited to `public`, and no machine access
  // (bot tokens from its key) until an operator approves it.
  assert.equal(info.self_service, true);
  assert.equal(info.approved, false);
  assert.deepEqual(info.scopes, ['public']);
  const appToken = async () => {
    const jwt = await new jose.SignJWT({})
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(registered.client_id)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    const r = await fetch(`${ISSUER}/application/token`, { method: 'POST', headers: { authorization: `Bearer ${jwt}` } });
    return [r.status, await r.json()];
  };
  const [refused, why] = await appToken();
  assert.equal(refused, 401, JSON.stringify(why));
  assert.equal(why.error, 'invalid_token');
  assert.match(why.error_description, /until an operator approves it/, JSON.stringify(why));
  const [patched, approved] = await admin('PATCH', `/admin/apps/${registered.client_id}`, { approved: true });
  assert.equal(patched, 200, JSON.stringify(approved));
  assert.equal(approved.approved, true);
  const [ok, bot] = await appToken();
  assert.equal(ok, 200, JSON.stringify(bot));
  assert.equal((await validateAccessToken(bot.access_token)).client_id, registered.client_id);
});

test('RFC 7591 registration asking for a scope beyond public: invalid_client_metadata', async () => {
  const reg = await oauth.dynamicClientRegistrationRequest(
    as,
    {
      client_name: `interop greedy ${rand(3)}`,
      redirect_uris: ['https://dcr.example/cb'],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'public users:read',
    },
    insecure,
  );
  assert.equal(reg.status, 400);
  await assert.rejects(oauth.processDynamicClientRegistrationResponse(reg), (e) => {
    assert.ok(e instanceof oauth.ResponseBodyError, String(e));
    assert.equal(e.error, 'invalid_client_metadata');
    assert.match(e.error_description, /users:read/);
    return true;
  });
});

test('failed client authentication: one message for an unknown client and a wrong secret', async () => {
  const app = await createApp({ trusted: true, scopes: ['public'] });
  const attempt = async (id, secret) => {
    const client = { client_id: id };
    const r = await oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretPost(secret), {}, insecure);
    assert.equal(r.status, 401);
    return r.json();
  };
  const wrongSecret = await attempt(app.client_id, 'wrong-secret');
  const unknown = await attempt(rand(16), app.client_secret);
  assert.deepEqual(wrongSecret, { error: 'invalid_client', error_description: 'client authentication failed' });
  assert.deepEqual(unknown, wrongSecret);
});
