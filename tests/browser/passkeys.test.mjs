// Passkeys in headless Chromium with its virtual authenticator (DevTools protocol
// `WebAuthn.addVirtualAuthenticator`: CTAP2, resident keys, user verification): a person signs
// up and logs in with a password, adds a passkey on /account/passkeys, logs out, and logs in
// again with the passkey alone ("Sign in with a passkey": no email, no password); a clone of
// the credential (the same private key on a second authenticator whose signature counter
// starts again at 0) is refused; the passkey is removed on the page and no longer logs in.
// Without JavaScript the log-in page shows no passkey button and is the password form alone.
//
// WebAuthn needs a domain as RP ID (not an IP address), so the pages are opened at
// http://localhost:<port> (the issuer in development is the request's origin; localhost is a
// secure context). Started by tests/browser/run.sh like flows.test.mjs.

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
if (!ISSUER || !ADMIN_TOKEN) throw new Error('ISSUER and ADMIN_TOKEN must be set: run these tests with tests/browser/run.sh');
const ORIGIN = ISSUER.replace('://127.0.0.1:', '://localhost:');
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
  '--host-resolver-rules=MAP localhost 127.0.0.1',
];
const SCREENSHOTS = process.env.BROWSER_SCREENSHOTS;

async function shot(page, name) {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function browser(t, options = {}) {
  const dir = await mkdtemp(join(process.env.BROWSER_WORK || tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    timeout: 60_000,
    ...options,
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

const url = (path) => new URL(path, ORIGIN).href;

/** A loopback redirect URI for an app; `code()` waits for the code the browser brings. */
async function callbackServer(t) {
  const hits = [];
  const server = createServer((req, res) => {
    hits.push(new URL(req.url, `http://${req.headers.host}`));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>Callback</title><p>Signed in.</p>');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const { port } = server.address();
  return {
    uri: `http://127.0.0.1:${port}/cb`,
    async code() {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const hit = hits.find((h) => h.pathname === '/cb');
        if (hit) return hit.searchParams.get('code');
        if (Date.now() > deadline) throw new Error('the redirect URI was never reached');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  };
}

/** An authorization by the signed-in browser; the ID token's claims as the app gets them. */
async function idTokenClaims(t, page) {
  const cb = await callbackServer(t);
  const created = await api('POST', '/admin/apps', {
    body: JSON.stringify({ name: 'Passkey RP', owner: `browser-${randomBytes(4).toString('hex')}`, redirect_uris: [cb.uri], scopes: ['public'] }),
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const { client_id: clientId, client_secret: clientSecret } = created.json;
  const verifier = Buffer.from(randomBytes(32)).toString('base64url');
  const u = new URL('/oauth/authorize', ORIGIN);
  u.search = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: cb.uri, scope: 'openid public', state: 'st', nonce: 'n-1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' }).toString();
  await page.goto(u.href);
  await submit(page, page.getByRole('button', { name: 'Allow' }), (x) => x.href.startsWith(cb.uri));
  const code = await cb.code();
  const tok = await api('POST', '/oauth/token', {
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: cb.uri, code_verifier: verifier }).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
  });
  assert.equal(tok.status, 200, JSON.stringify(tok.json));
  return JSON.parse(Buffer.from(tok.json.id_token.split('.')[1], 'base64url').toString());
}
const SESSION = 'portcullis_session';
const hasSession = async (page) => (await page.context().cookies(ORIGIN)).some((c) => c.name === SESSION);

/** Clicks and waits for the navigation it causes to land where `landsOn` says. */
async function submit(page, button, landsOn) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  const here = new URL(page.url());
  if (!landsOn(here)) {
    const text = await page.locator('body').innerText().catch(() => '');
    assert.fail(`landed on ${resp?.status()} ${here.href}: ${text.slice(0, 300)}`);
  }
  return resp;
}

async function signUpAndLogIn(page, email, password) {
  await page.goto(url('/signup'));
  await page.getByLabel('Display name').fill('Pat Passkey');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await submit(page, page.getByRole('button', { name: 'Sign up' }), (u) => u.pathname === '/signup');
  await page.getByLabel('Password').fill(password);
  await submit(page, page.getByRole('button', { name: 'Log in' }), (u) => u.pathname === '/');
  assert.ok(await hasSession(page));
}

/** The log-in page, passkey button clicked; resolves once the status line says something. */
async function passkeyButton(page) {
  await page.goto(url('/login?return_to=%2F'));
  const button = page.getByRole('button', { name: 'Sign in with a passkey' });
  await button.waitFor({ state: 'visible' });
  return button;
}

test('passkeys: add on /account/passkeys, log in without a password, clones refused, remove', async (t) => {
  const { context, page, problems } = await browser(t);
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const authenticator = {
    protocol: 'ctap2',
    transport: 'internal',
    hasResidentKey: true,
    hasUserVerification: true,
    isUserVerified: true,
    automaticPresenceSimulation: true,
  };
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: authenticator });

  const email = `pk-${randomBytes(4).toString('hex')}@example.com`;
  await signUpAndLogIn(page, email, 'correct horse battery');

  // The passkeys page: none yet; the script shows the "Add a passkey" form.
  await page.goto(url('/account/passkeys'));
  await page.getByRole('heading', { name: 'Passkeys' }).waitFor();
  assert.match(await page.locator('#no-passkeys').innerText(), /no passkeys yet/);
  await page.getByLabel('Name of the new passkey (optional)').fill('Virtual <key>');
  await shot(page, 'passkeys-empty');
  await submit(page, page.getByRole('button', { name: 'Add a passkey' }), (u) => u.pathname === '/account/passkeys' && u.search === '?added=1');
  assert.match(await page.locator('#notice').innerText(), /Passkey added/);
  assert.match(await page.locator('#passkeys').innerText(), /Virtual <key>/);
  await shot(page, 'passkeys-one');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true);
  assert.equal(credentials[0].rpId, 'localhost');

  // Signed out, the passkey alone logs in (no email typed, no password).
  await context.clearCookies();
  const button = await passkeyButton(page);
  await shot(page, 'login-with-passkey');
  await Promise.all([page.waitForURL((u) => u.pathname === '/' && u.origin === ORIGIN), button.click()]);
  assert.match(await page.locator('main').innerText(), new RegExp(`Signed in as Pat Passkey \\(${email}\\)`));
  assert.ok(await hasSession(page));
  const after = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0];
  assert.ok(after.signCount >= 1, `the authenticator counted (${after.signCount})`);

  // The ID token of an app this passkey log-in signs in to: a user-verified key that cannot
  // leave its authenticator (not backup eligible): amr hwk + user + mfa, and acr phr
  // (phishing-resistant; never phrh: without attestation the hardware is the key's own claim,
  // rules::acr).
  const claims = await idTokenClaims(t, page);
  assert.deepEqual(claims.amr, ['hwk', 'user', 'mfa'], JSON.stringify(claims));
  assert.equal(claims.acr, 'phr', JSON.stringify(claims));
  const discovery = await api('GET', '/.well-known/openid-configuration');
  assert.ok(!discovery.json.acr_values_supported.includes('phrh') && discovery.json.acr_values_supported.includes('phr'));

  // A clone: the same key on another authenticator, its counter back at 0 -> refused.
  await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
  const clone = (await cdp.send('WebAuthn.addVirtualAuthenticator', { options: authenticator })).authenticatorId;
  await cdp.send('WebAuthn.addCredential', { authenticatorId: clone, credential: { ...after, signCount: 0 } });
  await context.clearCookies();
  const again = await passkeyButton(page);
  await again.click();
  const status = page.locator('#passkey-status');
  await status.filter({ hasText: /cloned/ }).waitFor();
  await shot(page, 'login-passkey-refused');
  assert.equal(await hasSession(page), false, 'no session for a cloned authenticator');
  assert.equal(new URL(page.url()).pathname, '/login');

  // The password still works; remove the passkey on the page; then it no longer logs in.
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password').fill('correct horse battery');
  await submit(page, page.getByRole('button', { name: 'Log in' }), (u) => u.pathname === '/');
  await page.goto(url('/account/passkeys'));
  await submit(page, page.getByRole('button', { name: 'Remove passkey Virtual <key>' }), (u) => u.search === '?removed=1');
  assert.match(await page.locator('#notice').innerText(), /Passkey removed/);
  await context.clearCookies();
  const gone = await passkeyButton(page);
  await gone.click();
  await status.filter({ hasText: /not registered/ }).waitFor();
  assert.equal(await hasSession(page), false);

  // The script ran under the pages' CSP: no violations, no script errors besides the
  // refusals the server answered on purpose (403s logged by the browser as failed loads).
  assert.deepEqual(
    problems.filter((p) => !/status of 403/.test(p)),
    [],
    'no CSP violations or script errors',
  );
});

test('without JavaScript the log-in page is the password form alone', async (t) => {
  const { page } = await browser(t, { javaScriptEnabled: false });
  await page.goto(url('/login'));
  await page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign in with a passkey' }).count(), 0);
  assert.equal(await page.locator('#passkey-login').isVisible(), false);
});
