// Headless Chromium against the running worker (start with tests/browser/run.sh): a person
// signs up (which answers the log-in form, never a session), logs in, logs out, follows an
// app's authorization request, logs in, consents and lands on the app's redirect URI with a
// code (issue 5); a public client gets the consent page every time (RFC 8252 §8.6); and a
// person manages an app on /apps: add (self-service: no machine access until an operator
// approves it), see its App ID and secret, regenerate, remove (issue 6); and every page,
// error pages too, shows the brand (BRAND_NAME, set by run.sh; issue 15). Clicks and typing
// only: the pages have no JavaScript, so this also checks that they work as plain HTML forms
// under their CSP.
//
// Debian's chromium (/usr/bin/chromium) driven by playwright-core; each test has a fresh
// profile directory. The app's redirect URI is a loopback server started here. With
// BROWSER_SCREENSHOTS=<dir>, full-page screenshots of the main pages are written there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { api } from '../interop/lib.mjs';

const ISSUER = process.env.ISSUER;
const ADMIN_TOKEN = process.env.ADMIN_TOKEN;
if (!ISSUER || !ADMIN_TOKEN) {
  throw new Error('ISSUER and ADMIN_TOKEN must be set: run these tests with tests/browser/run.sh');
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const rand = (n = 6) => randomBytes(n).toString('hex');
const SCREENSHOTS = process.env.BROWSER_SCREENSHOTS;

/** A full-page screenshot named `name`.png when BROWSER_SCREENSHOTS is set. */
async function shot(page, name) {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** A fresh browser profile; closes the browser and removes the profile when the test ends. */
async function browser(t) {
  const dir = await mkdtemp(join(process.env.BROWSER_WORK || tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    timeout: 60_000,
  });
  context.setDefaultTimeout(15_000);
  t.after(async () => {
    await context.close();
    await rm(dir, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

/** The app's redirect URI: a loopback server that records each request. */
async function callbackServer(t) {
  const hits = [];
  let wake = () => {};
  const server = createServer((req, res) => {
    hits.push(new URL(req.url, `http://${req.headers.host}`));
    wake();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Callback</title><p>Signed in.</p>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address();
  return {
    uri: `http://127.0.0.1:${port}/cb`,
    hits,
    async next(timeout = 30_000) {
      const deadline = Date.now() + timeout;
      while (hits.length === 0) {
        if (Date.now() > deadline) throw new Error('the redirect URI was never reached');
        await new Promise((resolve) => {
          wake = resolve;
          setTimeout(resolve, 200);
        });
      }
      return hits.shift();
    },
  };
}


const admin = (method, path, body) =>
  api(method, path, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
  });

/** Creates an app named `name` redirecting to `redirectUri`, with `fields`, by the admin API
 * (asserting 201); returns the server's answer. */
async function createApp(name, redirectUri, fields) {
  const created = await admin('POST', '/admin/apps', {
    name,
    owner: `browser-${rand()}`,
    redirect_uris: [redirectUri],
    ...fields,
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  return created.json;
}

/** An authorization request (code, PKCE S256) for `clientId`; returns its href and verifier. */
function authorizeRequest(clientId, redirectUri, scope, state) {
  const verifier = b64url(randomBytes(32));
  const u = new URL('/oauth/authorize', ISSUER);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  return { href: u.href, verifier };
}

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

const tokenRequest = (params, auth) =>
  api('POST', '/oauth/token', {
    body: new URLSearchParams(params).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
  });

async function active(token) {
  const r = await api('POST', '/oauth/introspect', {
    body: new URLSearchParams({ token }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  assert.equal(r.status, 200);
  return r.json.active;
}

/**
 * Clicks a submit button and waits for the page it leads to; fails at once (with what the
 * server said) unless the browser lands where expected.
 */
async function submit(page, button, landsOn) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  const here = new URL(page.url());
  const ok = typeof landsOn === 'function' ? landsOn(here) : here.href === new URL(landsOn, ISSUER).href;
  if (!ok) {
    const text = await page.locator('body').innerText().catch(() => '');
    assert.fail(`expected to land on ${landsOn}, got ${resp?.status()} ${here.href}: ${text.slice(0, 300)}`);
  }
  return resp;
}

/** The page's styles apply (the CSP's style hash matches the inline style). */
async function assertStyled(page) {
  const bg = await page.locator('button').first().evaluate((b) => getComputedStyle(b).backgroundColor);
  assert.ok(bg === 'rgb(26, 26, 26)' || bg === 'rgb(255, 255, 255)', `unstyled button (${bg}): CSP blocked the style?`);
}

const SESSION = 'portcullis_session';
const hasSession = async (page) => (await page.context().cookies(ISSUER)).some((c) => c.name === SESSION);

/**
 * Signs up on the sign-up page the browser shows and checks the answer: no session and no
 * redirect, but the log-in page saying the account is ready, with the (normalised) email
 * filled in; then types the password and logs in, landing on `landsOn` (the return_to).
 */
async function signUpThenLogIn(page, person, landsOn, screenshot) {
  await page.getByLabel('Display name').fill(person.name);
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel(/^Password/).fill(person.password);
  const resp = await submit(page, page.getByRole('button', { name: 'Sign up' }), (u) => u.pathname === '/signup');
  assert.equal(resp.status(), 200);
  if (screenshot) await shot(page, screenshot);
  await assertStyled(page);
  assert.equal(await hasSession(page), false, 'sign-up does not log in');
  assert.match(await page.title(), /^Log in\b/);
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  assert.match(await page.locator('#signed-up').innerText(), /^Your account is ready: log in to continue/);
  assert.equal(await page.getByRole('status').count(), 1);
  assert.equal(await page.getByLabel('Email', { exact: true }).inputValue(), person.email.trim().toLowerCase());
  assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password is typed again');
  await page.getByLabel('Password').fill(person.password);
  await submit(page, page.getByRole('button', { name: 'Log in' }), landsOn);
  assert.ok(await hasSession(page), 'log-in sets the session cookie');
}

function assertNoCspViolations(problems) {
  assert.deepEqual(
    problems.filter((p) => /Content Security Policy|Refused to/i.test(p)),
    [],
    'the pages must work under their own Content-Security-Policy',
  );
}

test('sign-up → log-in → consent → redirect with code', async (t) => {
  const cb = await callbackServer(t);
  const appName = `Browser app ${rand(3)}`;
  const { client_id: clientId, client_secret: clientSecret } = await createApp(appName, cb.uri, {
    homepage: 'https://browser.example/',
    scopes: ['public', 'email', 'users:read'],
  });
  // Typed with capitals: sign-up and log-in normalise the email (lower case).
  const person = { name: 'Browser Person', email: `Browser-${rand()}@People.example`, password: `pw-${rand(8)}` };
  const email = person.email.toLowerCase();
  const { page, problems } = await browser(t);

  // Sign up on the sign-up page: it answers the log-in form, and logging in goes home.
  await page.goto(`${ISSUER}/signup`);
  await assertStyled(page);
  await shot(page, 'signup');
  await signUpThenLogIn(page, person, '/', 'signed-up');
  assert.match(await page.locator('main').innerText(), /Signed in as Browser Person/);
  assert.ok((await page.locator('main').innerText()).includes(email));
  // Log out (a form with a CSRF token).
  await submit(page, page.getByRole('button', { name: 'Log out' }), '/login');
  const cookies = await page.context().cookies(ISSUER);
  assert.ok(!cookies.some((c) => c.name === 'portcullis_session'), 'log-out removes the session cookie');

  // The app sends the person to the authorization endpoint.
  const state = `st-${rand(4)}`;
  const authz = authorizeRequest(clientId, cb.uri, 'public email users:read', state);
  const { verifier } = authz;
  await page.goto(authz.href);
  // Not signed in: the log-in page, with a link to sign up.
  assert.ok(page.url().startsWith(`${ISSUER}/login?return_to=`), page.url());
  assert.equal(await page.getByRole('link', { name: 'Sign up' }).count(), 1);
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel('Password').fill(`${person.password}-wrong`);
  await submit(page, page.getByRole('button', { name: 'Log in' }), (u) => u.pathname === '/login');
  assert.match(await page.getByRole('alert').innerText(), /email or password is wrong/);
  await page.getByLabel('Password').fill(person.password);
  await submit(page, page.getByRole('button', { name: 'Log in' }), (u) => u.pathname === '/oauth/authorize');

  // Consent: the app by name, each scope in words, Allow.
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  await assertStyled(page);
  await shot(page, 'consent');
  const main = await page.locator('main').innerText();
  assert.ok(main.includes(appName), main);
  assert.match(main, /See your public profile/);
  assert.match(main, /See your email address/);
  assert.match(main, /See user accounts/);
  assert.ok(main.includes(email), main);
  await submit(page, page.getByRole('button', { name: 'Allow' }), (u) => u.href.startsWith(cb.uri));

  // The browser lands on the app's redirect URI with a code.
  const hit = await cb.next();
  assert.equal(hit.pathname, '/cb');
  assert.equal(hit.searchParams.get('state'), state);
  assert.equal(hit.searchParams.get('iss'), ISSUER);
  const code = hit.searchParams.get('code');
  assert.ok(code && code.length >= 22, `code: ${code}`);

  // The app trades it (with the verifier and its secret) and learns who signed in.
  const tok = await tokenRequest(
    { grant_type: 'authorization_code', code, redirect_uri: cb.uri, code_verifier: verifier },
    basic(clientId, clientSecret),
  );
  assert.equal(tok.status, 200, JSON.stringify(tok.json));
  assert.equal(tok.json.token_type, 'Bearer');
  assert.equal(tok.json.scope, 'public email users:read');
  // userinfo releases the name with `public` and the email with `email`.
  const me = await api('GET', '/oauth/userinfo', { headers: { authorization: `Bearer ${tok.json.access_token}` } });
  assert.equal(me.status, 200);
  assert.equal(me.json.email, email);
  assert.equal(me.json.name, person.name);

  // This app is confidential (it has a secret), so the consent is remembered: the next
  // request goes straight back with a new code.
  await page.goto(authz.href);
  // Skip anything else the browser asks the callback server for (e.g. /favicon.ico).
  let again = await cb.next();
  while (again.pathname !== '/cb') again = await cb.next();
  assert.ok(again.searchParams.get('code') && again.searchParams.get('code') !== code);

  // OpenID Connect's `claims` parameter: a claim asked for by itself, beyond the granted
  // scopes, is its own line on the consent page (and asks again although the scopes were
  // consented to).
  const oidc = authorizeRequest(clientId, cb.uri, 'openid', `st-${rand(4)}`);
  const claims = JSON.stringify({ id_token: { email_verified: null }, userinfo: { email: null } });
  await page.goto(`${oidc.href}&claims=${encodeURIComponent(claims)}`);
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  await shot(page, 'consent-claims');
  const items = await page.locator('ul.scopes li').allInnerTexts();
  assert.deepEqual(items, ['Know who you are (your account identifier)', 'See your email address', 'See whether your email address is verified']);
  await submit(page, page.getByRole('button', { name: 'Allow' }), (u) => u.href.startsWith(cb.uri));
  let third = await cb.next();
  while (third.pathname !== '/cb') third = await cb.next();
  assert.ok(third.searchParams.get('code'));
  assertNoCspViolations(problems);
});

test('a public client gets the consent page on every request', async (t) => {
  const cb = await callbackServer(t);
  const appName = `Public app ${rand(3)}`;
  const created = await createApp(appName, cb.uri, { token_endpoint_auth_method: 'none', scopes: ['public'] });
  const clientId = created.client_id;
  assert.equal(created.client_secret, undefined);
  const person = { name: 'Public Person', email: `public-${rand()}@people.example`, password: `pw-${rand(8)}` };
  const { page, problems } = await browser(t);
  const authorize = (state) => authorizeRequest(clientId, cb.uri, 'public', state);
  const nextCallback = async () => {
    let hit = await cb.next();
    while (hit.pathname !== '/cb') hit = await cb.next();
    return hit;
  };

  // First request: log-in page → sign up → log in → back to the request → consent → Allow.
  const first = authorize('first');
  await page.goto(first.href);
  assert.ok(page.url().startsWith(`${ISSUER}/login?return_to=`), page.url());
  await page.getByRole('link', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Sign up' }).waitFor();
  await signUpThenLogIn(page, person, (u) => u.pathname === '/oauth/authorize');
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  assert.ok((await page.locator('main').innerText()).includes(appName));
  await submit(page, page.getByRole('button', { name: 'Allow' }), (u) => u.href.startsWith(cb.uri));
  const hit1 = await nextCallback();
  assert.equal(hit1.searchParams.get('state'), 'first');
  const code1 = hit1.searchParams.get('code');
  const tok = await tokenRequest({
    grant_type: 'authorization_code',
    client_id: clientId,
    code: code1,
    redirect_uri: cb.uri,
    code_verifier: first.verifier,
  });
  assert.equal(tok.status, 200, JSON.stringify(tok.json));

  // Same person, same scope: consent is asked again (nothing goes to the redirect URI first).
  const second = authorize('second');
  await page.goto(second.href);
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  await shot(page, 'consent-public-again');
  assert.ok(new URL(page.url()).pathname === '/oauth/authorize', page.url());
  assert.equal(cb.hits.filter((h) => h.pathname === '/cb').length, 0, 'no code without consent');
  await submit(page, page.getByRole('button', { name: 'Allow' }), (u) => u.href.startsWith(cb.uri));
  const hit2 = await nextCallback();
  assert.equal(hit2.searchParams.get('state'), 'second');
  assert.ok(hit2.searchParams.get('code') && hit2.searchParams.get('code') !== code1);
  assertNoCspViolations(problems);
});

test('/apps: add, see, regenerate, remove', async (t) => {
  const { page, problems } = await browser(t);
  await page.goto(`${ISSUER}/apps`);
  // Not signed in: log-in page; sign up from there and come back to /apps.
  assert.ok(page.url().startsWith(`${ISSUER}/login?return_to=%2Fapps`), page.url());
  await page.getByRole('link', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Sign up' }).waitFor();
  const developer = { name: 'App Developer', email: `dev-${rand()}@people.example`, password: `pw-${rand(8)}` };
  await signUpThenLogIn(page, developer, '/apps');
  await page.getByRole('heading', { name: 'Your apps' }).waitFor();
  await assertStyled(page);
  await shot(page, 'apps');
  assert.match(await page.locator('main').innerText(), /No apps yet/);
  // Only operators may make an app trusted: a person is not offered the box, and is told
  // that machine access needs an operator's approval.
  assert.equal(await page.getByLabel(/App is trusted/).count(), 0);
  assert.equal(await page.locator('#trusted').count(), 0);
  assert.match(await page.locator('main').innerText(), /need an operator's approval/);
  const operatorView = await api('GET', '/apps', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(operatorView.status, 200);
  assert.match(operatorView.json, /<input type="checkbox" id="trusted" name="trusted" value="yes">/);

  // Add.
  const name = `Chromium app ${rand(3)}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Description').fill('Added by a real browser');
  await page.getByLabel('Homepage').fill('https://apps.example/');
  await page.getByLabel('Image URL').fill('https://apps.example/logo.png');
  await page.getByLabel('Admin email').fill('admin@apps.example');
  await page.getByLabel('Admin phone').fill('+1 555 0100');
  await page.getByLabel(/Redirect URL/).fill('https://apps.example/cb');
  await submit(page, page.getByRole('button', { name: 'Add app' }), '/apps');
  await shot(page, 'apps-added');

  // See the App ID and secret (32 characters each), once.
  const id = (await page.locator('#app-id').innerText()).trim();
  const secret = (await page.locator('#app-secret').innerText()).trim();
  assert.match(id, /^[A-Za-z0-9_-]{32}$/);
  assert.match(secret, /^[A-Za-z0-9_-]{32}$/);
  const row = page.locator('li', { hasText: id });
  assert.match(await row.innerText(), new RegExp(name));
  assert.match(await row.innerText(), /Trusted: no/);
  // A person's app is self-service: scopes limited to `public`, and no client_credentials
  // until an operator approves it (and makes it trusted).
  const stored = await admin('GET', `/admin/apps/${id}`);
  assert.equal(stored.status, 200);
  assert.equal(stored.json.self_service, true);
  assert.equal(stored.json.approved, false);
  assert.deepEqual(stored.json.scopes, ['public']);
  const cc = (s) => tokenRequest({ grant_type: 'client_credentials' }, basic(id, s));
  const unapproved = await cc(secret);
  assert.equal(unapproved.status, 400, JSON.stringify(unapproved.json));
  assert.equal(unapproved.json.error, 'unauthorized_client');
  const tooEarly = await admin('PATCH', `/admin/apps/${id}`, { trusted: true });
  assert.equal(tooEarly.status, 400, 'trusted needs approval first');
  const approved = await admin('PATCH', `/admin/apps/${id}`, { approved: true, trusted: true });
  assert.equal(approved.status, 200, JSON.stringify(approved.json));
  assert.equal(approved.json.approved, true);
  assert.equal(approved.json.trusted, true);
  const first = await cc(secret);
  assert.equal(first.status, 200, JSON.stringify(first.json));
  await page.goto(`${ISSUER}/apps`);
  assert.match(await page.locator('li', { hasText: id }).innerText(), /Trusted: yes/);
  assert.equal(await page.locator('#app-secret').count(), 0, 'the secret is shown only once');
  assert.ok((await page.locator('main').innerText()).includes(id));

  // Regenerate: confirm first; then a new secret, the old one and its tokens dead.
  await submit(page, page.locator('li', { hasText: id }).getByRole('button', { name: 'Regenerate secret' }), `/apps/${id}/regenerate`);
  await page.getByRole('heading', { name: 'Please confirm' }).waitFor();
  assert.equal((await cc(secret)).status, 200, 'nothing changes before confirmation');
  await submit(page, page.getByRole('button', { name: 'Yes, regenerate' }), `/apps/${id}/regenerate`);
  const newSecret = (await page.locator('#app-secret').innerText()).trim();
  assert.match(newSecret, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(newSecret, secret);
  assert.equal((await page.locator('#app-id').innerText()).trim(), id);
  assert.equal((await cc(secret)).status, 401, 'the old secret is refused');
  assert.equal(await active(first.json.access_token), false, 'tokens from before are inactive');
  const second = await cc(newSecret);
  assert.equal(second.status, 200);

  // Remove: confirm, then gone (with its tokens).
  await page.goto(`${ISSUER}/apps`);
  await submit(page, page.locator('li', { hasText: id }).getByRole('button', { name: 'Remove' }), `/apps/${id}/remove`);
  await page.getByRole('heading', { name: 'Please confirm' }).waitFor();
  await submit(page, page.getByRole('button', { name: 'Yes, remove it' }), '/apps');
  assert.ok(!(await page.locator('main').innerText()).includes(id), 'the app is no longer listed');
  assert.equal((await admin('GET', `/admin/apps/${id}`)).status, 404);
  assert.equal(await active(second.json.access_token), false);
  assert.equal((await cc(newSecret)).status, 401);
  assertNoCspViolations(problems);
});

test('the pages show the brand (BRAND_NAME), escaped, in the title and the header', async (t) => {
  const BRAND = process.env.BRAND_NAME;
  assert.ok(BRAND, 'tests/browser/run.sh sets BRAND_NAME');
  const { page, problems } = await browser(t);
  await page.goto(`${ISSUER}/login`);
  assert.equal(await page.title(), `Log in · ${BRAND}`);
  const header = page.getByRole('banner');
  assert.equal((await header.innerText()).trim(), BRAND);
  // Shown as text (escaped), not parsed as markup: no element came out of the name.
  assert.equal(await page.locator('header.brand a > *').count(), 1);
  assert.equal(await header.getByRole('link', { name: BRAND }).getAttribute('href'), '/');
  // The header sits above the heading and is styled (the CSP allowed the stylesheet).
  const [h, h1] = await Promise.all([header.boundingBox(), page.getByRole('heading', { level: 1 }).boundingBox()]);
  assert.ok(h && h1 && h.y + h.height <= h1.y, `header ${JSON.stringify(h)} above heading ${JSON.stringify(h1)}`);
  assert.equal(await header.evaluate((e) => getComputedStyle(e).borderBottomStyle), 'solid');
  await assertStyled(page);
  await shot(page, 'brand-login');
  // An error page (rendered by routes::render) is in the brand too.
  const resp = await page.goto(`${ISSUER}/oauth/authorize?response_type=code`);
  assert.equal(resp.status(), 400);
  assert.equal(await page.title(), `Cannot continue · ${BRAND}`);
  assert.equal((await page.getByRole('banner').innerText()).trim(), BRAND);
  await shot(page, 'brand-error');
  assertNoCspViolations(problems);
});
