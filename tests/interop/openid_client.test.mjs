// openid-client (panva, v6), unmodified and in its default OpenID Connect mode: discovery of
// /.well-known/openid-configuration, the code flow with PKCE and a nonce, and the library's own
// ID-token validation (signature from the discovered JWKS, iss, aud, azp, exp, iat, nonce,
// at_hash), userinfo with its `sub` check, and a refresh (offline_access) with a new ID token.
// Nothing here uses the server's own code; the person is driven through the real pages.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { ISSUER, createApp, Browser, authorizeInBrowser } from './lib.mjs';

// The server runs on http://127.0.0.1 under the test: the library refuses plain HTTP unless told.
const insecure = { execute: [client.allowInsecureRequests] };

test('openid-client discovers the provider and validates the ID token of a code flow', async () => {
  const redirectUri = 'https://rp.example/cb';
  const app = await createApp({ redirect_uris: [redirectUri], scopes: ['public', 'email'] });
  const config = await client.discovery(new URL(ISSUER), app.client_id, app.client_secret, undefined, insecure);
  const meta = config.serverMetadata();
  assert.equal(meta.issuer, ISSUER.replace(/\/$/, ''));
  assert.ok(meta.scopes_supported.includes('openid'));

  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email offline_access',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  const browser = new Browser();
  const callback = await authorizeInBrowser(browser, url);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedNonce: nonce,
    expectedState: state,
    idTokenExpected: true,
  });
  const claims = tokens.claims();
  assert.equal(claims.iss, meta.issuer);
  assert.equal(claims.aud, app.client_id);
  assert.equal(claims.nonce, nonce);
  assert.ok(claims.auth_time <= claims.iat, JSON.stringify(claims));
  assert.ok(typeof claims.sid === 'string' && claims.sid.length > 0);

  const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.sub, claims.sub);
  assert.equal(info.name, 'Interop Person');
  assert.match(info.email, /@example\.com$/);
  assert.equal(info.email_verified, false);

  // offline_access: a refresh token; its refresh gives a new ID token for the same person.
  assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  const again = refreshed.claims();
  assert.equal(again.sub, claims.sub);
  assert.equal(again.auth_time, claims.auth_time);
  assert.equal(again.nonce, undefined, 'no nonce on refresh');
});

test('openid-client: a wrong nonce is caught by the library, a nonce-less flow works', async () => {
  const redirectUri = 'https://rp.example/nonce';
  const app = await createApp({ redirect_uris: [redirectUri], scopes: ['public'] });
  const config = await client.discovery(new URL(ISSUER), app.client_id, app.client_secret, undefined, insecure);
  const browser = new Browser();
  const run = async (nonce) => {
    const verifier = client.randomPKCECodeVerifier();
    const params = {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    };
    if (nonce) params.nonce = nonce;
    const callback = await authorizeInBrowser(browser, client.buildAuthorizationUrl(config, params));
    return { callback, verifier };
  };
  const asked = await run(client.randomNonce());
  await assert.rejects(
    client.authorizationCodeGrant(config, asked.callback, {
      pkceCodeVerifier: asked.verifier,
      expectedNonce: client.randomNonce(),
      idTokenExpected: true,
    }),
    (e) => {
      // oauth4webapi's error names the claim that failed.
      const claim = e.cause?.claim ?? e.cause?.cause?.claim;
      assert.equal(claim, 'nonce', `${e.message} ${JSON.stringify(e.cause)}`);
      return true;
    },
  );
  const plain = await run(undefined);
  const tokens = await client.authorizationCodeGrant(config, plain.callback, {
    pkceCodeVerifier: plain.verifier,
    idTokenExpected: true,
  });
  assert.equal(tokens.claims().nonce, undefined);
  assert.equal(tokens.refresh_token, undefined, 'no offline_access, no refresh token');
});
