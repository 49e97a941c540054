// Authlib (Python), unmodified: its OpenID Connect `CodeIDToken` validation (Core §3.1.3.7:
// iss, aud, azp, exp, iat, auth_time, nonce, at_hash) of an ID token from a real code flow,
// with the signature checked against the provider's JWKS. The flow itself is driven with
// openid-client; the Python side gets the ID token, the access token, the nonce and the URLs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as client from 'openid-client';
import { ISSUER, createApp, Browser, authorizeInBrowser } from './lib.mjs';

const PYTHON = process.env.INTEROP_PYTHON;
const insecure = { execute: [client.allowInsecureRequests] };

const CHECK = `
import json, sys, urllib.request
from authlib.jose import JsonWebToken, JsonWebKey
from authlib.oidc.core import CodeIDToken
a = json.load(sys.stdin)
meta = json.load(urllib.request.urlopen(a["issuer"] + "/.well-known/openid-configuration"))
keys = JsonWebKey.import_key_set(json.load(urllib.request.urlopen(meta["jwks_uri"])))
jwt = JsonWebToken(meta["id_token_signing_alg_values_supported"])
claims = jwt.decode(a["id_token"], keys, claims_cls=CodeIDToken,
    claims_options={"iss": {"value": meta["issuer"]}},
    claims_params={"nonce": a["nonce"], "client_id": a["client_id"], "access_token": a["access_token"]})
claims.validate(leeway=5)
print(json.dumps({"ok": True, "sub": claims["sub"]}))
`;

function authlib(input) {
  const r = spawnSync(PYTHON, ['-c', CHECK], { input: JSON.stringify(input), encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('Authlib validates the ID token of a code flow (CodeIDToken), and refuses a wrong nonce', { skip: !PYTHON }, async () => {
  const redirectUri = 'https://authlib.example/cb';
  const app = await createApp({ redirect_uris: [redirectUri], scopes: ['public'] });
  const config = await client.discovery(new URL(ISSUER), app.client_id, app.client_secret, undefined, insecure);
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
  });
  const callback = await authorizeInBrowser(new Browser(), url);
  const tokens = await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, idTokenExpected: true });
  const input = { issuer: ISSUER.replace(/\/$/, ''), client_id: app.client_id, id_token: tokens.id_token, access_token: tokens.access_token, nonce };
  const ok = authlib(input);
  assert.equal(ok.code, 0, ok.err);
  assert.equal(JSON.parse(ok.out).sub, tokens.claims().sub);
  const wrongNonce = authlib({ ...input, nonce: 'another-nonce' });
  assert.notEqual(wrongNonce.code, 0);
  assert.match(wrongNonce.err, /nonce/i);
  const wrongToken = authlib({ ...input, access_token: 'not-the-access-token' });
  assert.notEqual(wrongToken.code, 0);
  assert.match(wrongToken.err, /at_hash/i);
});
