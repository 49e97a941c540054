// Shared helpers for the interop suites: the server under test (from the environment that
// tests/interop/run.sh sets), the admin API, and a tiny browser (cookie jar, forms, no
// JavaScript) that drives the sign-up, log-in and consent pages the way a person would.
//
// Nothing here uses the server's own code.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

export const ISSUER = process.env.ISSUER;
export const ADMIN_TOKEN = process.env.ADMIN_TOKEN;
if (!ISSUER || !ADMIN_TOKEN) {
  throw new Error('ISSUER and ADMIN_TOKEN must be set: run these tests with tests/interop/run.sh');
}

export const rand = (n = 6) => randomBytes(n).toString('hex');

/** A call to the admin API; returns [status, json]. */
export async function admin(method, path, body) {
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(new URL(path, ISSUER), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return [r.status, json];
}

/** Creates an app with the admin API (asserting 201); returns the server's answer. */
export async function createApp(body) {
  const [status, json] = await admin('POST', '/admin/apps', {
    name: `interop ${rand(3)}`,
    owner: `interop-${rand(6)}`,
    ...body,
  });
  assert.equal(status, 201, `POST /admin/apps: ${JSON.stringify(json)}`);
  return json;
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
const unescapeHtml = (s) => s.replace(/&(amp|lt|gt|quot|#39);/g, (_, e) => ENTITIES[e]);

/** The first `<form>` of a page: its action, method and every input with a name and value. */
export function parseForm(html, index = 0) {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  assert.ok(forms.length > index, `no form #${index} in the page:\n${html}`);
  const [, attrs, inner] = forms[index];
  const attr = (s, name) => {
    const m = s.match(new RegExp(`\\b${name}="([^"]*)"`));
    return m ? unescapeHtml(m[1]) : undefined;
  };
  const fields = new URLSearchParams();
  for (const [, a] of inner.matchAll(/<input\b([^>]*)>/g)) {
    const name = attr(a, 'name');
    if (name !== undefined && attr(a, 'type') === 'hidden') fields.append(name, attr(a, 'value') ?? '');
  }
  return { action: attr(attrs, 'action'), method: (attr(attrs, 'method') || 'get').toUpperCase(), fields };
}

/**
 * A browser without JavaScript: keeps cookies per name, follows nothing by itself, sends
 * `Origin` on POST like a real browser does.
 */
export class Browser {
  constructor() {
    this.cookies = new Map();
  }

  #take(r) {
    for (const c of r.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      const maxAge = attrs.map((a) => a.trim().toLowerCase()).find((a) => a.startsWith('max-age='));
      if (maxAge === 'max-age=0') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  #headers(extra = {}) {
    const h = { ...extra };
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return h;
  }

  async get(url) {
    const r = await fetch(new URL(url, ISSUER), { headers: this.#headers(), redirect: 'manual' });
    this.#take(r);
    return r;
  }

  async post(url, form) {
    const r = await fetch(new URL(url, ISSUER), {
      method: 'POST',
      headers: this.#headers({
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(ISSUER).origin,
      }),
      body: form.toString(),
      redirect: 'manual',
    });
    this.#take(r);
    return r;
  }

  /** Submits the page's form with the given visible fields (hidden ones, csrf included, as sent). */
  async submit(html, visible = {}, index = 0) {
    const f = parseForm(html, index);
    for (const [k, v] of Object.entries(visible)) f.fields.set(k, v);
    assert.equal(f.method, 'POST');
    return this.post(f.action, f.fields);
  }
}

export const location = (r) => {
  const l = r.headers.get('location');
  assert.ok(l, `expected a redirect, got ${r.status}`);
  return l;
};

/**
 * Runs a person through an authorization request in `browser`: signs up (first time) or finds
 * the session, consents, and returns the callback URL the server redirects to (not followed:
 * it belongs to the client).
 */
export async function authorizeInBrowser(browser, authorizationUrl, person = {}) {
  let r = await browser.get(authorizationUrl);
  if (r.status === 303) {
    const login = location(r);
    assert.match(login, /^\/login\?return_to=/);
    // The log-in page links to sign-up with the same return_to.
    const signup = new URL(login, ISSUER);
    signup.pathname = '/signup';
    const page = await browser.get(signup);
    assert.equal(page.status, 200);
    r = await browser.submit(await page.text(), {
      name: person.name ?? 'Interop Person',
      email: person.email ?? `interop-${rand()}@example.com`,
      password: person.password ?? `pw-${rand(8)}`,
    });
    assert.equal(r.status, 303, `sign-up: ${r.status} ${await r.text()}`);
    r = await browser.get(new URL(location(r), ISSUER));
  }
  if (r.status === 200) {
    // The consent page: Allow.
    const html = await r.text();
    assert.match(html, /wants to access your account/);
    r = await browser.submit(html, { decision: 'allow' });
  }
  assert.equal(r.status, 302, `authorization: ${r.status} ${await r.text()}`);
  return new URL(location(r));
}
