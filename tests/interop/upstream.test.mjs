// Sign in with another identity provider, end to end: the worker under `wrangler dev` with
// UPSTREAM_PROVIDERS naming node `oidc-provider` (tests/interop/upstream_idp.mjs, started by
// tests/interop/run.sh), driven by a browser without JavaScript through both sides' pages:
// the log-in page's "Continue with" link, the IdP's development log-in and consent pages, the
// callback (state, PKCE, nonce, RFC 9207 iss, the ID token verified by the IdP's JWKS, the
// email from its userinfo), a new account, the same account on the next sign-in, linking an
// existing account only with its password, an unverified email refused, a replayed callback
// refused, and the IdP's access_denied shown on a page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ISSUER, Browser, location, parseForm, rand, signUp, logIn } from './lib.mjs';

const IDP = process.env.UPSTREAM_IDP_URL;
const skip = IDP ? false : 'UPSTREAM_IDP_URL is not set (run with tests/interop/run.sh)';

/** Two cookie jars, one per site, as a browser keeps them apart. */
class TwoSites {
  constructor() {
    this.worker = new Browser();
    this.idp = new Browser();
  }
  jar(url) {
    return new URL(url, ISSUER).origin === new URL(IDP).origin ? this.idp : this.worker;
  }
  get(url) {
    return this.jar(url).get(url);
  }
  post(url, form) {
    return this.jar(url).post(url, form);
  }
}

/**
 * From the log-in page to the worker's callback: "Continue with Node IdP", the IdP's log-in
 * as `login` (or its abort), its consent. Returns the callback URL the IdP sent the browser to.
 */
async function throughIdp(b, login, { abort = false, returnTo = '/' } = {}) {
  const page = await b.get(`/login?return_to=${encodeURIComponent(returnTo)}`);
  const html = await page.text();
  const link = html.match(/<a class="button" id="upstream-nodeidp" href="([^"]+)"/);
  assert.ok(link, `no "Continue with Node IdP" link:\n${html}`);
  assert.match(html, /Continue with Node IdP/);
  let r = await b.get(link[1].replace(/&amp;/g, '&'));
  assert.equal(r.status, 303, `start: ${r.status} ${await r.text()}`);
  let url = location(r);
  assert.ok(url.startsWith(`${IDP}/`), url);
  const sent = new URL(url);
  assert.equal(sent.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(sent.searchParams.get('nonce') && sent.searchParams.get('state'));
  for (let i = 0; i < 12; i++) {
    if (url.startsWith(`${ISSUER}/login/upstream/nodeidp/callback`)) return url;
    r = await b.get(url);
    if (r.status >= 300 && r.status < 400) {
      url = new URL(location(r), url).href;
      continue;
    }
    const body = await r.text();
    assert.equal(r.status, 200, `at the IdP: ${r.status} ${body}`);
    const form = parseForm(body);
    if (/name="login"/.test(body)) {
      form.fields.set('login', login);
      form.fields.set('password', 'any');
    } else if (abort) {
      // The consent page's "Cancel" link aborts the interaction (access_denied).
      const cancel = body.match(/href="([^"]*\/abort)"/);
      assert.ok(cancel, body);
      r = await b.get(new URL(cancel[1], url).href);
      url = new URL(location(r), url).href;
      continue;
    }
    r = await b.post(new URL(form.action, url).href, form.fields);
    url = new URL(location(r), url).href;
  }
  throw new Error('the IdP did not send the browser back');
}

test('upstream: a first sign-in makes an account, the next one finds it; a replay is refused', { skip }, async () => {
  const b = new TwoSites();
  const login = `person-${rand(4)}`;
  const callback = await throughIdp(b, login, { returnTo: '/?after=1' });
  assert.ok(new URL(callback).searchParams.get('iss'), 'oidc-provider sends iss (RFC 9207)');
  const r = await b.get(callback);
  assert.equal(r.status, 303, `callback: ${r.status} ${await r.text()}`);
  assert.equal(location(r), '/?after=1');
  assert.ok(b.worker.hasSession());
  const home = await (await b.get('/')).text();
  assert.match(home, new RegExp(`${login}@example\\.com`));
  // The same callback again: its state was used.
  const again = await b.get(callback);
  const text = await again.text();
  assert.equal(again.status, 400, text);
  assert.match(text, /expired or was already used/);
  // Another browser, the same person at the IdP: the same account.
  const b2 = new TwoSites();
  const r2 = await b2.get(await throughIdp(b2, login));
  assert.equal(r2.status, 303, await r2.text());
  assert.match(await (await b2.get('/')).text(), new RegExp(`${login}@example\\.com`));
});

test('upstream: an existing account is linked only after its password', { skip }, async () => {
  const login = `owner-${rand(4)}`;
  const person = { name: 'Owner', email: `${login}@example.com`, password: `pw-${rand(8)}` };
  const owner = new Browser();
  const signup = await (await owner.get('/signup')).text();
  await logIn(owner, await signUp(owner, signup, person), person);
  const b = new TwoSites();
  const r = await b.get(await throughIdp(b, login));
  const html = await r.text();
  assert.equal(r.status, 200, html);
  assert.match(html, /already exists here/);
  const wrong = await b.worker.submit(html, { password: 'not-the-password' });
  assert.equal(wrong.status, 401);
  const ok = await b.worker.submit(await wrong.text(), { password: person.password });
  assert.equal(ok.status, 303, await ok.text());
  assert.ok(b.worker.hasSession());
  // Linked: the next sign-in goes straight in.
  const b2 = new TwoSites();
  const r2 = await b2.get(await throughIdp(b2, login));
  assert.equal(r2.status, 303, await r2.text());
});

test('upstream: an unverified email never links; access_denied is shown', { skip }, async () => {
  const login = `unverified-${rand(4)}`;
  const person = { name: 'U', email: `${login}@example.com`, password: `pw-${rand(8)}` };
  const owner = new Browser();
  await signUp(owner, await (await owner.get('/signup')).text(), person);
  const b = new TwoSites();
  const r = await b.get(await throughIdp(b, login));
  const html = await r.text();
  assert.equal(r.status, 403, html);
  assert.match(html, /does not say this email is verified/);
  assert.equal(b.worker.hasSession(), false);
  const denied = new TwoSites();
  const cb = await throughIdp(denied, `person-${rand(4)}`, { abort: true });
  assert.equal(new URL(cb).searchParams.get('error'), 'access_denied');
  const page = await denied.get(cb);
  const text = await page.text();
  assert.equal(page.status, 403, text);
  assert.match(text, /Signing in with Node IdP did not work/);
});
