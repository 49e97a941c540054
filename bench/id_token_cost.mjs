// The cost of an ID token: the code exchange's signing time (`Server-Timing: sign;dur=`, measured
// inside the worker) with `openid` (access token + ID token) and without (access token only),
// over N code flows each. Run against a server started by tests/interop's launcher, e.g.
//   . scripts/serve-lib.sh; suite_init bench; suite_start; ISSUER=... ADMIN_TOKEN=... node bench/id_token_cost.mjs
// (bench/run.sh does this). Prints one JSON line.
import { createApp, Browser, authorizeInBrowser } from '../tests/interop/lib.mjs';
import { createHash, randomBytes } from 'node:crypto';

const N = Number(process.env.N ?? 20);
const ISSUER = process.env.ISSUER.replace(/\/$/, '');
const redirect = 'https://bench.example/cb';
const app = await createApp({ redirect_uris: [redirect], scopes: ['public'] });
const browser = new Browser();

async function exchange(scope) {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${ISSUER}/oauth/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: app.client_id, redirect_uri: redirect, scope,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    nonce: randomBytes(8).toString('hex'),
  });
  const cb = await authorizeInBrowser(browser, url);
  const r = await fetch(`${ISSUER}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Basic ' + btoa(`${app.client_id}:${app.client_secret}`) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: cb.searchParams.get('code'), redirect_uri: redirect, code_verifier: verifier }),
  });
  const body = await r.json();
  if (!r.ok) throw new Error(JSON.stringify(body));
  const dur = Number(/sign;dur=([\d.]+)/.exec(r.headers.get('server-timing') ?? '')?.[1]);
  return { dur, idToken: Boolean(body.id_token) };
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = {};
for (const [name, scope] of [['oauth', 'public'], ['openid', 'openid public']]) {
  const xs = [];
  for (let i = 0; i < N; i++) {
    const { dur, idToken } = await exchange(scope);
    if (idToken !== (name === 'openid')) throw new Error(`${name}: id_token ${idToken}`);
    xs.push(dur);
  }
  out[name] = { n: N, sign_ms_median: median(xs), sign_ms_min: Math.min(...xs) };
}
out.id_token_ms_median = +(out.openid.sign_ms_median - out.oauth.sign_ms_median).toFixed(3);
console.log(JSON.stringify(out));
