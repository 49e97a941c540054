// Headless Chromium: the account page (/account, issue 18). A person signs up, allows an app
// (the code flow, its redirect URI a loopback server here), finds it on the account page under
// "Connected apps" (reached from the home page's link), and revokes it with a click; the app's
// access token is then inactive. The page is checked at 390 px wide (nothing wider than the
// screen) and, with BROWSER_SCREENSHOTS=<dir>, shot as account.png and account-390.png.

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
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = process.env.BROWSER_SCREENSHOTS;
const rand = (n = 6) => randomBytes(n).toString('hex');
const b64url = (buf) => Buffer.from(buf).toString('base64url');

async function shot(page, name) {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function browser(t) {
  const dir = await mkdtemp(join(process.env.BROWSER_WORK || tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
  context.setDefaultTimeout(15_000);
  t.after(async () => {
    await context.close();
    await rm(dir, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { page, problems };
}

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

async function submit(page, button, landsOn) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  const here = new URL(page.url());
  const ok = typeof landsOn === 'function' ? landsOn(here) : here.href === new URL(landsOn, ISSUER).href;
  if (!ok) {
    const text = await page.locator('body').innerText().catch(() => '');
    assert.fail(`expected to land on ${landsOn}, got ${here.href}: ${text.slice(0, 300)}`);
  }
}

const form = (o) => ({ body: new URLSearchParams(o).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

test('/account: connected apps, sessions, revoke, at 390 px', async (t) => {
  const cb = await callbackServer(t);
  const appName = `Account app ${rand(3)}`;
  const created = await api('POST', '/admin/apps', {
    body: JSON.stringify({ name: appName, owner: `browser-${rand()}`, redirect_uris: [cb.uri], homepage: 'https://account.example/', scopes: ['public', 'users:read'] }),
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const { client_id: clientId, client_secret: clientSecret } = created.json;
  const person = { name: 'Account Person', email: `account-${rand()}@people.example`, password: `pw-${rand(8)}` };
  const { page, problems } = await browser(t);

  // Signed out: the account page sends the person to log in, and back.
  await page.goto(`${ISSUER}/account`);
  assert.ok(page.url().startsWith(`${ISSUER}/login?return_to=%2Faccount`), page.url());
  await page.goto(`${ISSUER}/signup`);
  await page.getByLabel('Display name').fill(person.name);
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel(/^Password/).fill(person.password);
  await submit(page, page.getByRole('button', { name: 'Sign up' }), (u) => u.pathname === '/signup');
  await page.getByLabel('Password').fill(person.password);
  await submit(page, page.getByRole('button', { name: 'Log in' }), '/');

  // Allow the app (code flow with PKCE) and let it redeem the code.
  const verifier = b64url(randomBytes(32));
  const u = new URL('/oauth/authorize', ISSUER);
  u.search = new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: cb.uri, scope: 'public users:read', state: 'st',
    code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256' }).toString();
  await page.goto(u.href);
  await submit(page, page.getByRole('button', { name: 'Allow' }), (x) => x.href.startsWith(cb.uri));
  const code = await cb.code();
  const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  const tok = await api('POST', '/oauth/token', { ...form({ grant_type: 'authorization_code', code, redirect_uri: cb.uri, code_verifier: verifier }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic } });
  assert.equal(tok.status, 200, JSON.stringify(tok.json));

  // Home → "Your account".
  await page.goto(`${ISSUER}/`);
  await submit(page, page.getByRole('link', { name: 'Your account' }), '/account');
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  const main = await page.locator('main').innerText();
  assert.ok(main.includes(appName), main);
  assert.ok(main.includes(person.email), main);
  assert.match(main, /Access: public, users:read/);
  assert.match(main, /this browser/);
  for (const link of ['Change password', 'Change email', 'Passkeys', 'Two-step verification']) {
    assert.equal(await page.getByRole('link', { name: link }).count(), 1, link);
  }
  assert.equal(await page.getByLabel('Display name').inputValue(), person.name);
  await shot(page, 'account');

  // At 390 px nothing is wider than the screen.
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390, `the page is ${wide}px wide at 390 px`);
  await shot(page, 'account-390');

  // Revoke: the app leaves the list and its token is inactive.
  await submit(page, page.getByRole('button', { name: `Revoke ${appName}` }), (x) => x.pathname === '/account');
  assert.match(await page.getByRole('status').innerText(), /access is revoked/);
  assert.ok(!(await page.locator('main').innerText()).includes(appName));
  const intro = await api('POST', '/oauth/introspect', { ...form({ token: tok.json.access_token }),
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(intro.json.active, false);

  // The display name is saved from the page.
  await page.getByLabel('Display name').fill('Renamed Person');
  await submit(page, page.getByRole('button', { name: 'Save name' }), (x) => x.pathname === '/account');
  assert.equal(await page.getByLabel('Display name').inputValue(), 'Renamed Person');
  assert.deepEqual(problems.filter((p) => /Content Security Policy|Refused to/i.test(p)), []);
});
