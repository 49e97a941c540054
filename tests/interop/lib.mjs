// Shared helpers for the interop suites: the server under test (from the environment that
// tests/interop/run.sh sets), the admin API, and a tiny browser (cookie jar, forms, no
// JavaScript) that drives the sign-up, log-in and consent pages the way a person would.
// Sign-up never logs in: it answers the log-in page, which the person then submits.
//
// Nothing here uses the server's own code.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';

export const ISSUER = process.env.ISSUER;
export const ADMIN_TOKEN = process.env.ADMIN_TOKEN;
if (!ISSUER || !ADMIN_TOKEN) {
  throw new Error('ISSUER and ADMIN_TOKEN must be set: run these tests with tests/interop/run.sh or tests/browser/run.sh');
}

export const rand = (n = 6) => randomBytes(n).toString('hex');

/** One request to the server; returns { status, json } (the text where the body is not JSON). */
export async function api(method, path, { body, headers = {} } = {}) {
  const r = await fetch(new URL(path, ISSUER), { method, headers, body });
  const text = await r.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, json };
}

/** A call to the admin API; returns [status, json]. */
export async function admin(method, path, body) {
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const { status, json } = await api(method, path, {
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return [status, json];
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

  /** Whether the browser holds a session cookie. */
  hasSession() {
    return [...this.cookies.keys()].some((k) => /portcullis_session$/.test(k));
  }
}

export const location = (r) => {
  const l = r.headers.get('location');
  assert.ok(l, `expected a redirect, got ${r.status}`);
  return l;
};

/** The `value` of the page's input named `name` (hidden or not), unescaped. */
export function inputValue(html, name) {
  for (const [, a] of html.matchAll(/<input\b([^>]*)>/g)) {
    if (new RegExp(`\\bname="${name}"`).test(a)) {
      const m = a.match(/\bvalue="([^"]*)"/);
      return m ? unescapeHtml(m[1]) : undefined;
    }
  }
  return undefined;
}

/** Sign-up and log-in normalise emails this way (trimmed, NFKC, lower case). */
export const normaliseEmail = (email) => email.trim().normalize('NFKC').toLowerCase();

/**
 * Submits the sign-up page `signupHtml` for `person` and checks the answer: sign-up never logs
 * anyone in and answers the same for a new email and one that already has an account, a 200
 * "Log in" page that says the account is ready, followed by the log-in form with the sign-up's
 * CSRF token and return_to and the (normalised) email filled in. No session cookie is set.
 * Returns that page's HTML.
 */
export async function signUp(browser, signupHtml, person) {
  const sent = parseForm(signupHtml);
  assert.equal(sent.action, '/signup');
  const r = await browser.submit(signupHtml, { name: person.name, email: person.email, password: person.password });
  const html = await r.text();
  assert.equal(r.status, 200, `sign-up: ${r.status} ${html}`);
  assert.equal(r.headers.get('location'), null, 'sign-up does not redirect');
  assert.deepEqual(
    r.headers.getSetCookie().filter((c) => /portcullis_session=/.test(c)),
    [],
    'sign-up sets no session cookie',
  );
  assert.equal(browser.hasSession(), false, 'sign-up does not log in');
  assert.match(html, /<title>Log in\b/);
  assert.match(html, /<p role="status" id="signed-up">Your account is ready: log in to continue/);
  assert.ok(
    html.indexOf('id="signed-up"') < html.indexOf('<form method="post" action="/login">'),
    `the notice and then the log-in form:\n${html}`,
  );
  const form = parseForm(html);
  assert.equal(form.action, '/login');
  assert.equal(form.fields.get('return_to'), sent.fields.get('return_to'), 'return_to is kept');
  assert.equal(form.fields.get('csrf'), sent.fields.get('csrf'), 'the CSRF token is kept');
  assert.equal(inputValue(html, 'email'), normaliseEmail(person.email), 'the email is filled in');
  return html;
}

/**
 * Submits a log-in page (the one sign-up answers, or /login) with `person`'s password and the
 * email the page has filled in (else `person.email`), as a person would; asserts the 303 with
 * the session cookie and returns the response.
 */
export async function logIn(browser, loginHtml, person) {
  const email = inputValue(loginHtml, 'email') || person.email;
  const r = await browser.submit(loginHtml, { email, password: person.password });
  assert.equal(r.status, 303, `log-in: ${r.status} ${await r.text()}`);
  assert.ok(browser.hasSession(), 'log-in sets the session cookie');
  return r;
}

/**
 * Signs a new person up from the sign-up page at `signupUrl` (whose return_to is where they
 * end up) and then logs them in from the page sign-up answers; returns the log-in response
 * (303 to return_to).
 */
export async function signUpAndLogIn(browser, signupUrl, person = {}) {
  const who = {
    name: person.name ?? 'Interop Person',
    email: person.email ?? `Interop-${rand()}@Example.com`,
    password: person.password ?? `pw-${rand(8)}`,
  };
  const page = await browser.get(signupUrl);
  assert.equal(page.status, 200);
  const loginHtml = await signUp(browser, await page.text(), who);
  return logIn(browser, loginHtml, who);
}

/**
 * Runs a person through an authorization request in `browser`: signs up and logs in (first
 * time) or finds the session, consents, and returns the callback URL the server redirects to
 * (not followed: it belongs to the client). `consent`: true when the consent page must be shown
 * (public clients see it on every request, RFC 8252 §8.6), false when it must be skipped
 * (a confidential client the person already allowed); undefined when either is fine.
 */
export async function authorizeInBrowser(browser, authorizationUrl, person = {}, { consent } = {}) {
  let r = await browser.get(authorizationUrl);
  if (r.status === 303) {
    const login = location(r);
    assert.match(login, /^\/login\?return_to=/);
    // The log-in page links to sign-up with the same return_to.
    const loginPage = await (await browser.get(login)).text();
    const link = loginPage.match(/<a href="(\/signup\?[^"]*)">Sign up<\/a>/);
    assert.ok(link, `no sign-up link on the log-in page:\n${loginPage}`);
    const signup = new URL(unescapeHtml(link[1]), ISSUER);
    assert.equal(signup.searchParams.get('return_to'), new URL(login, ISSUER).searchParams.get('return_to'));
    r = await signUpAndLogIn(browser, signup, person);
    const back = new URL(location(r), ISSUER);
    assert.equal(back.href, new URL(authorizationUrl, ISSUER).href, 'log-in returns to the authorization request');
    r = await browser.get(back);
  }
  if (r.status === 200) {
    // The consent page: Allow.
    const html = await r.text();
    assert.match(html, /wants to access your account/);
    assert.notEqual(consent, false, 'remembered consent: expected a redirect with a code, got the consent page');
    r = await browser.submit(html, { decision: 'allow' });
  } else {
    assert.notEqual(consent, true, `expected the consent page, got ${r.status} ${r.headers.get('location')}`);
  }
  assert.equal(r.status, 302, `authorization: ${r.status} ${await r.text()}`);
  return new URL(location(r));
}
