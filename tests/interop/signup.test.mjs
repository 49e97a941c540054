// Sign-up as a client without JavaScript sees it: sign-up never logs anyone in and answers the
// same for a new email and for one that already has an account (nothing tells them apart);
// the person continues on the log-in form it answers with.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Browser, rand, signUp, logIn, location, parseForm } from './lib.mjs';

/** The sign-up page with a return_to, in a fresh browser. */
async function signupPage(browser, returnTo) {
  const r = await browser.get(`/signup?return_to=${encodeURIComponent(returnTo)}`);
  assert.equal(r.status, 200);
  return r.text();
}

/** The page without what differs per browser (its CSRF token). */
const masked = (html) => html.replace(parseForm(html).fields.get('csrf'), 'CSRF');

test('sign-up answers the log-in page, the same for a new and a taken email; log-in continues', async () => {
  const email = `signup-${rand()}@example.com`;
  const first = { name: 'First Person', email, password: `pw-${rand(8)}` };
  const a = new Browser();
  const answerA = await signUp(a, await signupPage(a, '/apps'), first);
  // Not signed in: the home page offers log-in, /apps sends to the log-in page.
  assert.match(await (await a.get('/')).text(), /<a href="\/login">Log in<\/a>/);
  const apps = await a.get('/apps');
  assert.equal(apps.status, 303);
  assert.match(location(apps), /^\/login\?return_to=%2Fapps$/);

  // The same email again (other case, other name and password), from another browser: the
  // same answer, byte for byte but for the CSRF token.
  const second = { name: 'Second Person', email: email.toUpperCase(), password: `pw-${rand(8)}` };
  const b = new Browser();
  const answerB = await signUp(b, await signupPage(b, '/apps'), second);
  assert.equal(masked(answerB), masked(answerA));

  // The second sign-up changed nothing: its password does not log in, the first one does.
  const wrong = await b.submit(answerB, { email: second.email, password: second.password });
  assert.equal(wrong.status, 401);
  assert.match(await wrong.text(), /email or password is wrong/);
  assert.equal(b.hasSession(), false);
  const r = await logIn(a, answerA, first);
  assert.equal(location(r), '/apps');
  const signedIn = await a.get('/apps');
  assert.equal(signedIn.status, 200);
  assert.match(await signedIn.text(), /Signed in as First Person\./);
});
