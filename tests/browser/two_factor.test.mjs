// Two-factor authentication in headless Chromium (issue 18): a person signs up, opens
// /account/2fa, sets it up (the QR code is inline SVG, drawn by the server; the key is read
// from the page as a person would type it into an app), confirms with a code computed here
// (RFC 6238 over node's HMAC-SHA1), sees the ten recovery codes; a fresh browser then logs in
// with the password, lands on /login/2fa and finishes with the next code. Clicks and typing
// only, at a 390 px wide viewport (nothing may scroll sideways). With BROWSER_SCREENSHOTS set,
// screenshots: two-factor-enrol.png (the QR code), two-factor-codes.png, two-factor-login.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const ISSUER = process.env.ISSUER;
if (!ISSUER) throw new Error('ISSUER must be set: run these tests with tests/browser/run.sh');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SCREENSHOTS = process.env.BROWSER_SCREENSHOTS;
const rand = (n = 6) => randomBytes(n).toString('hex');

async function shot(page, name) {
  if (!SCREENSHOTS) return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function browser(t) {
  const dir = await mkdtemp(join(process.env.BROWSER_WORK || tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000,
    viewport: { width: 390, height: 844 },
  });
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

async function submit(page, button, pathname) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  const here = new URL(page.url());
  if (here.pathname !== pathname) {
    const text = await page.locator('body').innerText().catch(() => '');
    assert.fail(`expected ${pathname}, got ${resp?.status()} ${here.href}: ${text.slice(0, 300)}`);
  }
  return resp;
}

function base32(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/\s/g, '')) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `not base32: ${c}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) { bits -= 8; out.push((value >>> bits) & 0xff); }
  }
  return Buffer.from(out);
}

function totp(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', secret).update(counter).digest();
  const o = h[19] & 0x0f;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}
const stepNow = () => Math.floor(Date.now() / 1000 / 30);

async function noSidewaysScroll(page) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= 390, `the page is ${w} px wide at a 390 px viewport`);
}

test('two-factor: set up with the QR code page, then a log-in asks for the code', async (t) => {
  const { page, problems } = await browser(t);
  const person = { name: 'Tess Two', email: `tess-${rand()}@people.example`, password: `pw-${rand(8)}` };
  await page.goto(new URL('/signup', ISSUER).href);
  await page.getByLabel('Display name').fill(person.name);
  await page.getByLabel('Email', { exact: true }).fill(person.email);
  await page.getByLabel(/^Password/).fill(person.password);
  await submit(page, page.getByRole('button', { name: 'Sign up' }), '/signup');
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  await submit(page, page.getByRole('button', { name: 'Log in' }), '/');

  await page.goto(new URL('/account/2fa', ISSUER).href);
  assert.match(await page.locator('#state').innerText(), /off/);
  await submit(page, page.getByRole('button', { name: 'Set up two-factor authentication' }), '/account/2fa');
  const qr = page.getByRole('img', { name: /QR code/ });
  await qr.waitFor();
  const box = await qr.boundingBox();
  assert.ok(box && box.width >= 200 && box.height >= 200, `QR code too small: ${JSON.stringify(box)}`);
  assert.equal(await page.locator('svg.qr path').count(), 1);
  const secret = base32(await page.locator('#secret').innerText());
  assert.equal(secret.length, 20);
  await noSidewaysScroll(page);
  await shot(page, 'two-factor-enrol');

  let last = stepNow();
  await page.getByLabel(/Enter the 6-digit code/).fill(totp(secret, last));
  await submit(page, page.getByRole('button', { name: 'Turn on' }), '/account/2fa');
  const codes = await page.locator('#recovery-codes code').allInnerTexts();
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, /^[a-z2-7]{5}-[a-z2-7]{5}$/);
  await noSidewaysScroll(page);
  await shot(page, 'two-factor-codes');

  // A fresh browser: the password alone stops at /login/2fa, with no session.
  const other = await browser(t);
  await other.page.goto(new URL('/login', ISSUER).href);
  await other.page.getByLabel('Email', { exact: true }).fill(person.email);
  await other.page.getByLabel('Password', { exact: true }).fill(person.password);
  await submit(other.page, other.page.getByRole('button', { name: 'Log in' }), '/login/2fa');
  const cookies = await other.page.context().cookies(ISSUER);
  assert.ok(!cookies.some((c) => c.name === 'portcullis_session'), 'a session before the second factor');
  await noSidewaysScroll(other.page);
  await shot(other.page, 'two-factor-login');
  // The next unused step (the confirming code used this one).
  const step = Math.max(stepNow(), last + 1);
  await other.page.getByLabel('Authentication code').fill(totp(secret, step));
  await submit(other.page, other.page.getByRole('button', { name: 'Verify' }), '/');
  assert.match(await other.page.locator('main').innerText(), /Signed in as/);
  assert.deepEqual([...problems, ...other.problems], []);
});
