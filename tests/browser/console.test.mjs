// Headless Chromium (tests/browser/run.sh): the operator console at /admin (issue 19). The first
// owner is set up with ADMIN_TOKEN on the console's own page, signs in, creates an app with
// the form (a generated key: the private PEM shown once, as a download), and looks at the list
// and the app's page; then People (search, a person's page, disable, force a reset, delete
// after its confirmation) and Audit (the events of those actions, filtered).
// BROWSER_SCREENSHOTS=<dir> keeps the screenshots.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { admin } from '../interop/lib.mjs';

const { ISSUER, ADMIN_TOKEN } = process.env;
if (!ISSUER || !ADMIN_TOKEN) {
  throw new Error('ISSUER and ADMIN_TOKEN must be set: run these tests with tests/browser/run.sh');
}
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const rand = (n = 6) => randomBytes(n).toString('hex');

async function browser(t) {
  const dir = await mkdtemp(join(process.env.BROWSER_WORK || tmpdir(), 'chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: ARGS, timeout: 60_000,
    viewport: { width: 1280, height: 800 }, acceptDownloads: true,
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

async function click(page, button) {
  await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  return new URL(page.url());
}

test('console: set up the owner, create an app, list and show it', async (t) => {
  // A few apps made through the API, so the list has rows to show.
  for (const [name, extra] of [['Payroll', { trusted: true, grant_types: ['client_credentials'] }],
    ['Helpdesk portal', { redirect_uris: ['https://help.example/cb'] }],
    ['Reporting', { redirect_uris: ['https://reports.example/cb'], status: 'disabled' }]]) {
    const [status, body] = await admin('POST', '/admin/apps', { name: `${name} ${rand(2)}`, scopes: ['public'], ...extra });
    assert.equal(status, 201, JSON.stringify(body));
  }
  const { page, problems } = await browser(t);
  await page.goto(`${ISSUER}/admin`);
  assert.match(new URL(page.url()).pathname, /\/admin\/console\/login$/);
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByLabel('Your name').fill('Ada Operator');
  await page.getByLabel('Email').fill(`ada-${rand()}@example.com`);
  await page.getByLabel('Password').fill('a long console password');
  await shot(page, 'console-setup');
  let url = await click(page, page.locator('#set-up'));
  assert.equal(url.pathname, '/admin/console/apps');
  assert.match(await page.locator('#whoami').innerText(), /Ada Operator/);

  await click(page, page.locator('#new-app'));
  const name = `Invoices ${rand(2)}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Description').fill('Sends the monthly invoices');
  await page.getByLabel('Homepage').fill('https://invoices.example');
  await page.getByLabel('Admin email').fill('ops@invoices.example');
  await page.getByLabel('Admin phone').fill('+40 21 555 0100');
  await page.getByLabel('Redirect URLs', { exact: false }).first().fill('https://invoices.example/callback');
  await page.locator('input[name="grant.authorization_code"]').check();
  await page.locator('input[name="grant.refresh_token"]').check();
  await page.locator('input[name="key_mode"][value="generate"]').check();
  await shot(page, 'console-app-form');
  url = await click(page, page.locator('#save'));
  assert.equal(await page.locator('#app-name').innerText().then((s) => s.includes(name)), true);
  assert.match(await page.locator('#client-secret').innerText(), /\S{20,}/);
  assert.match(await page.locator('#private-key').innerText(), /BEGIN PRIVATE KEY/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-key').click()]);
  const pem = await readFile(await download.path(), 'utf8');
  assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
  await shot(page, 'console-app-created');
  const id = await page.locator('#client-id').innerText();

  // The app's page again: the secret and key are not shown twice.
  await page.goto(`${ISSUER}/admin/console/apps/${id}`);
  assert.equal(await page.locator('#client-secret').count(), 0);
  assert.equal(await page.locator('#private-key').count(), 0);
  assert.match(await page.locator('#bot-user').innerText(), new RegExp(`bot_${id}`));
  await shot(page, 'console-app');

  await page.goto(`${ISSUER}/admin/console/apps`);
  assert.match(await page.locator('#apps').innerText(), new RegExp(name));
  await shot(page, 'console-apps');
  await page.getByLabel('Name').fill('invoices');
  await click(page, page.getByRole('button', { name: 'Search' }));
  const rows = await page.locator('#apps tbody tr').count();
  assert.ok(rows >= 1);
  await page.goto(`${ISSUER}/admin/console/operators`);
  await shot(page, 'console-operators');

  // --- People: a few sign up (in a page of their own), the operator finds and acts on one ---
  const tag = rand(3);
  const people = [`grace-${tag}@example.com`, `linus-${tag}@example.com`, `margaret-${tag}@example.com`];
  const signup = await page.context().newPage();
  for (const email of people) {
    await signup.goto(`${ISSUER}/signup`);
    await signup.getByLabel('Display name').fill(email.split('-')[0]);
    await signup.getByLabel('Email', { exact: true }).fill(email);
    await signup.getByLabel(/^Password/).fill('plum-kettle-42');
    await click(signup, signup.getByRole('button', { name: 'Sign up' }));
  }
  await signup.close();
  await page.goto(`${ISSUER}/admin/console/apps`);
  url = await click(page, page.locator('nav.side a', { hasText: 'People' }));
  assert.equal(url.pathname, '/admin/console/people');
  for (const email of people) assert.match(await page.locator('#people').innerText(), new RegExp(email));
  await shot(page, 'console-people');
  await page.getByLabel('Email').fill(`linus-${tag}`);
  await click(page, page.getByRole('button', { name: 'Search' }));
  assert.equal(await page.locator('#people tbody tr').count(), 1);
  url = await click(page, page.locator('#people a', { hasText: `linus-${tag}` }));
  assert.match(url.pathname, /^\/admin\/console\/people\/[\w-]+$/);
  assert.match(await page.locator('#person-email').innerText(), new RegExp(`linus-${tag}`));
  assert.match(await page.locator('#details').innerText(), /not verified/);
  await shot(page, 'console-person');
  await click(page, page.locator('#disable'));
  assert.match(await page.getByRole('status').innerText(), /disabled/);
  assert.match(await page.locator('#person-email').innerText(), /disabled/);
  await click(page, page.locator('#reset-password'));
  assert.match(await page.getByRole('status').innerText(), /Passkeys and two-factor authentication remain/);
  assert.match(await page.locator('#password').innerText(), /reset/);
  await shot(page, 'console-person-acted');
  await click(page, page.locator('#delete'));
  await shot(page, 'console-person-delete');
  url = await click(page, page.locator('#confirm'));
  assert.equal(url.pathname, '/admin/console/people');
  assert.doesNotMatch(await page.locator('#people').innerText(), new RegExp(`linus-${tag}`));

  // --- Audit: those actions, newest first, by this operator ---------------------------------
  url = await click(page, page.locator('nav.side a', { hasText: 'Audit' }));
  assert.equal(url.pathname, '/admin/console/audit');
  const first = await page.locator('#events tbody tr').first().innerText();
  assert.match(first, /user\.delete/);
  assert.match(first, /Ada Operator/);
  await shot(page, 'console-audit');
  await page.getByLabel('Type').selectOption('user.disable');
  await click(page, page.getByRole('button', { name: 'Filter' }));
  assert.equal(await page.locator('#events tbody tr').count(), 1);
  await shot(page, 'console-audit-filtered');
  const bad = await page.goto(`${ISSUER}/admin/console/audit?from=yesterday`);
  assert.equal(bad.status(), 400);
  assert.match(await page.locator('#filter-error').innerText(), /UTC day/);
  await shot(page, 'console-audit-error');
  assert.deepEqual(problems, []);
});
