// Headless Chromium (tests/browser/run.sh): pages a person trusts (issue 18). The log-in page
// names the app asking, with its homepage and where the person will be sent; the consent page
// too, with "Not you?"; every page carries the brand's terms, privacy and support links
// (BRAND_* set by run.sh); and the registration page as VoipNow describes it — the app's
// details, the credentials fields, Grant access, Register and Deny on one page, Deny working
// without a log-in. At 390 px wide (a phone) as well. BROWSER_SCREENSHOTS=<dir> keeps them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { api } from '../interop/lib.mjs';

const { ISSUER, ADMIN_TOKEN, BRAND_TERMS_URL, BRAND_PRIVACY_URL, BRAND_SUPPORT_EMAIL } = process.env;
if (!ISSUER || !ADMIN_TOKEN || !BRAND_TERMS_URL) {
  throw new Error('ISSUER, ADMIN_TOKEN and BRAND_* must be set: run these tests with tests/browser/run.sh');
}
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const rand = (n = 6) => randomBytes(n).toString('hex');

async function browser(t, viewport) {
  const dir = await mkdtemp(join(process.env.BROWSER_WORK || tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS, timeout: 60_000,
    viewport: viewport ?? { width: 1000, height: 800 },
  });
  context.setDefaultTimeout(15_000);
  t.after(async () => { await context.close(); await rm(dir, { recursive: true, force: true }); });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text()); });
  return { page, problems };
}

async function shot(page, name) {
  if (!process.env.BROWSER_SCREENSHOTS) return;
  await mkdir(process.env.BROWSER_SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(process.env.BROWSER_SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Clicks `button` and waits for the navigation it starts; returns the new URL. */
async function click(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  return new URL(page.url());
}

/**
 * Clicks `button`, which sends the browser to the app (a redirect to https://printer.example,
 * a host this closed network cannot reach: Playwright's routes do not see redirects, so the
 * request is read as it leaves); returns where the browser was sent.
 */
async function clickToApp(page, button) {
  let listener;
  // Resolved when the request to the app has failed (the host does not resolve here), so the
  // navigation is over before the test goes on (a goto meanwhile would collide with it).
  const sent = new Promise((resolve) => {
    listener = (r) => { if (r.url().startsWith('https://printer.example/')) resolve(new URL(r.url())); };
    page.on('requestfailed', listener);
  });
  await button.click();
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the browser was never sent to the app')), 15_000));
  try {
    const url = await Promise.race([sent, timeout]);
    // Chromium then shows its error page (a navigation of its own): wait until it is there.
    const deadline = Date.now() + 10_000;
    while (!page.url().startsWith('chrome-error:') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await page.waitForLoadState('load').catch(() => {});
    return url;
  } finally {
    page.off('requestfailed', listener);
  }
}

/** The footer of every page: the brand's links, as configured. */
async function assertFooter(page) {
  assert.equal(await page.locator('footer #terms').getAttribute('href'), BRAND_TERMS_URL);
  assert.equal(await page.locator('footer #privacy').getAttribute('href'), BRAND_PRIVACY_URL);
  assert.equal(await page.locator('footer #support').innerText(), BRAND_SUPPORT_EMAIL);
  assert.equal(await page.locator('footer #support').getAttribute('href'), `mailto:${BRAND_SUPPORT_EMAIL}`);
}

/** A person with an account (signed up on the page; sign-up never logs in). */
async function person(page) {
  const p = { name: 'Page Person', email: `pages-${rand()}@people.example`, password: `pw-${rand(8)}` };
  await page.goto(`${ISSUER}/signup`);
  await assertFooter(page);
  await page.getByLabel('Display name').fill(p.name);
  await page.getByLabel('Email', { exact: true }).fill(p.email);
  await page.getByLabel(/^Password/).fill(p.password);
  await click(page, page.getByRole('button', { name: 'Sign up' }));
  return p;
}

test('the log-in and consent pages name the app and where the person goes; the brand is on every page', async (t) => {
  for (const [label, viewport] of [['wide', undefined], ['390', { width: 390, height: 844 }]]) {
    const { page, problems } = await browser(t, viewport);
    const created = await api('POST', '/admin/apps', {
      body: JSON.stringify({ name: `Printer ${rand(2)}`, owner: `pages-${rand()}`, redirect_uris: ['https://rp.example/cb'],
        homepage: 'https://printer.example/about', scopes: ['public'] }),
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const app = created.json;
    const who = await person(page);
    const authz = new URL('/oauth/authorize', ISSUER);
    authz.search = new URLSearchParams({ response_type: 'code', client_id: app.client_id, redirect_uri: 'https://rp.example/cb',
      scope: 'public', state: 's1', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }).toString();
    await page.goto(authz.href);
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await page.locator('#app-name').innerText(), app.name);
    assert.match(await page.locator('#app-card').innerText(), /Homepage: printer\.example/);
    assert.match(await page.locator('#destination').innerText(), /sent to rp\.example/);
    await assertFooter(page);
    await shot(page, `login-app-card-${label}`);
    if (viewport) {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      assert.equal(overflow, false, 'the log-in page fits 390 px');
    }
    await page.getByLabel('Email', { exact: true }).fill(who.email);
    await page.getByLabel('Password').fill(who.password);
    const at = await click(page, page.getByRole('button', { name: 'Log in' }));
    assert.equal(at.pathname, '/oauth/authorize');
    assert.match(await page.locator('main').innerText(), /sent to rp\.example/);
    assert.match(await page.locator('main').innerText(), new RegExp(who.email.replace('.', '\\.')));
    await assertFooter(page);
    await shot(page, `consent-card-${label}`);
    // "Not you?" is the log-in page coming back to this request.
    const notYou = new URL(await page.locator('#not-you').getAttribute('href'), ISSUER);
    assert.equal(notYou.pathname, '/login');
    assert.ok(notYou.searchParams.get('return_to').includes(app.client_id));
    assert.deepEqual(problems, []);
  }
});

test('the registration page: Deny without a log-in; Register with the credentials fields and Grant access', async (t) => {
  const { page, problems } = await browser(t, { width: 390, height: 844 });
  const who = await person(page);
  const reg = new URL('/oauth/register', ISSUER);
  reg.search = new URLSearchParams({ name: 'Printer', homepage: 'https://printer.example', email: 'dev@printer.example',
    redirect_uri: 'https://printer.example/cb', state: `st-${rand(3)}` }).toString();
  const state = reg.searchParams.get('state');
  await page.goto(reg.href);
  for (const name of ['Register', 'Deny']) assert.equal(await page.getByRole('button', { name }).count(), 1);
  assert.equal(await page.getByLabel(/Grant access/).count(), 1);
  assert.equal(await page.getByRole('link', { name: 'Sign up' }).count(), 1);
  await assertFooter(page);
  await shot(page, 'register-signed-out');
  // Deny, signed out.
  let back = await clickToApp(page, page.getByRole('button', { name: 'Deny' }));
  assert.equal(back.origin + back.pathname, 'https://printer.example/cb');
  assert.equal(back.searchParams.get('error'), 'access_denied');
  assert.equal(back.searchParams.get('state'), state);
  // Register, logging in on the page, with Grant access.
  await page.goto(reg.href);
  await page.getByLabel('Email', { exact: true }).fill(who.email);
  await page.getByLabel('Password').fill(`${who.password}-wrong`);
  await click(page, page.getByRole('button', { name: 'Register' }));
  assert.match(await page.getByRole('alert').innerText(), /email or password is wrong/);
  await shot(page, 'register-wrong-password');
  await page.getByLabel('Password').fill(who.password);
  await page.getByLabel(/Grant access/).check();
  back = await clickToApp(page, page.getByRole('button', { name: 'Register' }));
  assert.equal(back.origin + back.pathname, 'https://printer.example/cb');
  assert.match(back.searchParams.get('client_id'), /^[A-Za-z0-9_-]{32}$/);
  assert.ok(back.searchParams.get('client_secret'));
  assert.ok(back.searchParams.get('code'));
  assert.equal(back.searchParams.get('state'), state);
  // Signed in now: the page shows who registers, with "Not you?".
  await page.goto(reg.href);
  assert.match(await page.locator('#signed-in').innerText(), new RegExp(who.email.replace('.', '\\.')));
  await shot(page, 'register-signed-in');
  assert.deepEqual(problems, []);
});
