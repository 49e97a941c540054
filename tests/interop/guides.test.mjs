// Runs every code block of docs/guides/*.md against the running server, so the guides cannot
// rot. Conventions (also in docs/guides/README.md):
//
// - ```sh                  shell commands: the page's sh blocks run in order as one POSIX sh
//                          session (`set -eu`) in a fresh directory; exported variables carry
//                          over from block to block, and to the programs they start.
// - ```js NAME, ```python NAME
//                          a file: written to NAME in that directory before anything runs.
// - ```sh background       a long-running program (a server): started with the session's
//                          environment; its first output line means it is ready; the page's
//                          hook below then plays the person in the browser; stopped at the end.
// - ```sh interactive      a program that prints an authorization URL and reads the redirect
//                          URL on stdin; the page's hook plays the person in the browser.
//
// Any other kind of block fails the test, as does a block that was not run. The environment:
// ISSUER, ADMIN_TOKEN, PORT (a free port), and PATH with Node 22 and the venv's python3 first.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as jose from 'jose';
import { ISSUER, ADMIN_TOKEN, Browser, admin, authorizeInBrowser, location, rand, signUpAndLogIn } from './lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const GUIDES = path.join(ROOT, 'docs/guides');
// Under the repository, so `import 'jose'` in an example resolves to node_modules. run.sh
// passes a directory it removes afterwards.
const WORK = path.join(process.env.INTEROP_WORK ?? path.join(ROOT, 'target/interop'), 'guides');
mkdirSync(WORK, { recursive: true });
const PYTHON = process.env.INTEROP_PYTHON;
const BLOCK_TIMEOUT_MS = 60_000;
const JWKS = jose.createRemoteJWKSet(new URL(`${ISSUER}/.well-known/jwks.json`));

/** Every fenced block: language, the rest of the info string, code, line number. */
export function blocksOf(markdown) {
  const out = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*(\S*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, fence, lang, info] = open;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !lines[j].startsWith(fence)) j++;
    assert.ok(j < lines.length, `unclosed code block at line ${i + 1}`);
    out.push({ lang, info: info.trim(), code: lines.slice(start, j).join('\n') + '\n', line: i + 1 });
    i = j;
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Parses `env -0` output. */
function parseEnv(buf) {
  const env = {};
  for (const entry of buf.split('\0')) {
    const at = entry.indexOf('=');
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}

function run(cmd, args, { cwd, env, input, timeout = BLOCK_TIMEOUT_MS }) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeout);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out, err });
    });
    p.stdin.end(input ?? '');
  });
}

/** A started program (background or interactive) in its own process group. */
class Program {
  constructor(code, ctx) {
    this.proc = spawn('sh', ['-c', `. ./.session.env\n${code}`], {
      cwd: ctx.dir,
      env: ctx.baseEnv,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.out = '';
    this.err = '';
    this.waiters = [];
    this.proc.stdout.on('data', (d) => {
      this.out += d;
      this.#wake();
    });
    this.proc.stderr.on('data', (d) => (this.err += d));
    this.exited = new Promise((resolve) => this.proc.on('close', (code) => {
      this.code = code;
      this.#wake();
      resolve(code);
    }));
  }

  #wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** The first stdout line matching `re` (waits for it). */
  async line(re, timeout = 20_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = this.out.split('\n').find((l) => re.test(l));
      if (found) return found;
      if (this.code !== undefined) throw new Error(`exited (${this.code}) without printing ${re}:\n${this.out}\n${this.err}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no output matching ${re} after ${timeout} ms:\n${this.out}\n${this.err}`);
      await new Promise((r) => {
        const timer = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  stop() {
    if (this.code === undefined) {
      try {
        process.kill(-this.proc.pid, 'SIGKILL');
      } catch {}
    }
  }
}

/** Verifies an access token as a resource server (jose, our JWKS). */
async function verifyToken(token) {
  const { payload } = await jose.jwtVerify(token, JWKS, { issuer: ISSUER, audience: ISSUER, typ: 'at+jwt' });
  return payload;
}

// ---------------------------------------------------------------------------------------------
// What the person does in the browser, per page. `ctx.env` is the session's exported
// environment so far; `ctx.output` everything the sh blocks printed.
// ---------------------------------------------------------------------------------------------

const HOOKS = {
  'app-tokens.md': {
    async end(ctx) {
      // userinfo of the bot user, once for the Node token and once for the Python one.
      const bots = ctx.output.match(/"bot":\s*true/g) ?? [];
      assert.equal(bots.length, 2, ctx.output);
    },
  },
  'client-credentials.md': {
    async end(ctx) {
      const tokens = [...ctx.output.matchAll(/"access_token":"([^"]+)"/g)].map((m) => m[1]);
      assert.equal(tokens.length, 2, ctx.output);
      for (const t of tokens) assert.equal((await verifyToken(t)).client_id, ctx.env.CLIENT_ID);
      assert.match(ctx.output, /reused the cached token/);
    },
  },
  'web-app.md': {
    async background(ctx, prog) {
      const open = await prog.line(/^open http/);
      const browser = new Browser();
      const login = await browser.get(open.replace(/^open /, ''));
      assert.equal(login.status, 302);
      const callback = await authorizeInBrowser(browser, location(login), { name: 'Web Reader' }, { consent: true });
      assert.equal(callback.origin, `http://127.0.0.1:${ctx.port}`);
      const page = await browser.get(callback);
      assert.equal(await page.text(), 'Hello, Web Reader!');
      for (let i = 0; i < 2; i++) {
        const r = await browser.get(`http://127.0.0.1:${ctx.port}/refresh`);
        assert.match(await r.text(), /^new access token, valid for \d+ s$/);
      }
    },
  },
  'sign-in-with-portcullis.md': {
    async background(ctx, prog) {
      const open = await prog.line(/^open http/);
      const browser = new Browser();
      const start = await browser.get(open.replace(/^open /, ''));
      assert.equal(start.status, 302);
      const authz = new URL(location(start));
      assert.equal(authz.searchParams.get('scope'), 'openid profile email');
      assert.ok(authz.searchParams.get('nonce'), 'the library sends a nonce');
      const callback = await authorizeInBrowser(browser, authz, { name: 'Oidc Reader' });
      const page = await browser.get(callback);
      const text = await page.text();
      assert.equal(page.status, 200, text);
      assert.match(text, /^Signed in: Oidc Reader <[^>]+@example\.com> \(sub [\w-]+, at \d+\)$/);
    },
  },
  'native-app.md': {
    async interactive(ctx, prog) {
      const url = await prog.line(new RegExp(`^${ISSUER}/oauth/authorize\\?`));
      const callback = await authorizeInBrowser(new Browser(), url, {}, { consent: true });
      assert.equal(callback.protocol, 'com.example.notes:');
      prog.proc.stdin.end(`${callback.href}\n`);
      assert.equal(await prog.exited, 0, `${prog.out}\n${prog.err}`);
      const token = /^access token: (\S+)$/m.exec(prog.out)?.[1];
      assert.ok(token, prog.out);
      assert.equal((await verifyToken(token)).client_id, ctx.env.CLIENT_ID);
      assert.match(prog.out, /^refreshed: \S+$/m);
    },
  },
  'pushed-authorization-requests.md': {
    async interactive(ctx, prog) {
      const url = new URL(await prog.line(new RegExp(`^${ISSUER}/oauth/authorize\\?`)));
      // The browser carries the reference only.
      assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
      assert.match(url.searchParams.get('request_uri'), /^urn:ietf:params:oauth:request_uri:[\w-]{43}$/);
      const browser = new Browser();
      const callback = await authorizeInBrowser(browser, url, {}, { consent: true });
      assert.equal(callback.origin + callback.pathname, 'https://app.example/callback');
      prog.proc.stdin.end(`${callback.href}\n`);
      assert.equal(await prog.exited, 0, `${prog.out}\n${prog.err}`);
      const token = /^access token: (\S+)$/m.exec(prog.out)?.[1];
      assert.ok(token, prog.out);
      assert.equal((await verifyToken(token)).client_id, ctx.env.CLIENT_ID);
      // Used up: the same address again is a page, not a second code.
      const again = await browser.get(url);
      assert.equal(again.status, 400);
      assert.match(await again.text(), /expired or was already used/);
    },
    async end(ctx) {
      assert.match(ctx.output, /^error=invalid_request$/m);
      assert.match(ctx.output, /^\{"error":"invalid_request","error_description":"[^"]*redirect URI[^"]*"[^\n]*\} 400$/m);
    },
  },
  'spa.md': {
    async end(ctx) {
      // The module runs in Node with the few browser globals it uses.
      const store = new Map();
      globalThis.sessionStorage = {
        getItem: (k) => store.get(k) ?? null,
        setItem: (k, v) => store.set(k, String(v)),
        removeItem: (k) => store.delete(k),
      };
      let assigned;
      globalThis.location = { href: 'https://spa.example/', assign: (u) => (assigned = u) };
      globalThis.history = { replaceState: (_s, _t, u) => (globalThis.location.href = new URL(u, globalThis.location.href).href) };
      const spa = await import(pathToFileURL(path.join(ctx.dir, 'spa-auth.mjs')));
      const config = { issuer: ISSUER, clientId: ctx.env.CLIENT_ID, redirectUri: 'https://spa.example/callback', scope: 'public' };
      assert.equal(await spa.handleRedirect(config), null, 'no tokens before sign-in');
      await spa.signIn(config);
      assert.ok(assigned?.startsWith(`${ISSUER}/oauth/authorize?`), String(assigned));
      const callback = await authorizeInBrowser(new Browser(), assigned, {}, { consent: true });
      globalThis.location.href = callback.href;
      const tokens = await spa.handleRedirect(config);
      assert.equal(globalThis.location.href, 'https://spa.example/callback', 'the code is removed from the address bar');
      assert.equal((await verifyToken(tokens.access_token)).client_id, ctx.env.CLIENT_ID);
      const refreshed = await spa.refresh(config, tokens.refresh_token);
      await verifyToken(refreshed.access_token);
      // A second use of the redirect (replayed state) is refused.
      globalThis.location.href = callback.href;
      await assert.rejects(spa.handleRedirect(config), /state/);
      // The token endpoint allows cross-origin calls (CORS), which is what lets a SPA call it.
      const pre = await fetch(`${ISSUER}/oauth/token`, {
        method: 'OPTIONS',
        headers: { origin: 'https://spa.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(pre.headers.get('access-control-allow-origin'), '*');
    },
  },
  'registration.md': {
    async end(ctx) {
      const link = ctx.output.split('\n').find((l) => l.startsWith(`${ISSUER}/oauth/register?`));
      assert.ok(link, ctx.output);
      const browser = new Browser();
      let r = await browser.get(link);
      assert.equal(r.status, 200);
      assert.match(await r.text(), /Log in to register this app/);
      // Sign up (which answers the log-in page, not a session), log in, come back to the
      // link, confirm.
      const signup = new URL('/signup', ISSUER);
      signup.searchParams.set('return_to', link.slice(ISSUER.length));
      r = await signUpAndLogIn(browser, signup, { name: 'Developer', email: `dev-${rand()}@example.com` });
      assert.equal(new URL(location(r), ISSUER).href, link, 'log-in returns to the registration link');
      r = await browser.get(location(r));
      assert.equal(r.status, 200);
      r = await browser.submit(await r.text(), { decision: 'register' });
      assert.equal(r.status, 303);
      const back = new URL(location(r));
      assert.equal(back.origin + back.pathname, 'https://myapp.example/portcullis/registered');
      assert.equal(back.searchParams.get('state'), new URL(link).searchParams.get('state'));
      assert.match(back.searchParams.get('client_id'), /^[A-Za-z0-9_-]{32}$/);
      assert.ok(back.searchParams.get('client_secret'));
      // The app is the developer's, self-service: `public` only, nothing machine until approved.
      const [status, app] = await admin('GET', `/admin/apps/${back.searchParams.get('client_id')}`);
      assert.equal(status, 200, JSON.stringify(app));
      assert.equal(app.self_service, true);
      assert.equal(app.approved, false);
      assert.equal(app.trusted, false);
      assert.deepEqual(app.scopes, ['public']);
      // RFC 7591: a scope beyond `public` is refused.
      assert.match(ctx.output, /^\{"error":"invalid_client_metadata","error_description":"[^"]*users:read[^"]*"[^\n]*\} 400$/m);
      // RFC 7592 part: read, replaced (new name); the operator's approval; deleted (204).
      assert.match(ctx.output, /"client_name":"Notes CLI"/);
      assert.match(ctx.output, /"client_name":"Notes CLI 2"/);
      assert.match(ctx.output, /^\{"approved":true,"scopes":\["public","users:read"\]\}$/m);
      assert.match(ctx.output, /^public users:read$/m);
      assert.match(ctx.output, /^204$/m);
    },
  },
  'resource-server.md': {
    async background(_ctx, prog) {
      await prog.line(/^API on http/);
    },
    async end(ctx) {
      assert.match(ctx.output, /^\{"hello":"[A-Za-z0-9_-]+"\} 200$/m);
      assert.match(ctx.output, /^401 Bearer$/m);
      assert.match(ctx.output, /^403 Bearer error="insufficient_scope", scope="users:read"$/m);
      assert.match(ctx.output, /^valid; scopes: users:read$/m);
      assert.match(ctx.output, /"active":\s*true/);
    },
  },
};

const programs = [];
after(() => programs.forEach((p) => p.stop()));

const pages = readdirSync(GUIDES).filter((f) => f.endsWith('.md')).sort();

test('the guides exist', () => {
  for (const p of ['app-tokens.md', 'client-credentials.md', 'web-app.md', 'native-app.md', 'spa.md', 'registration.md', 'resource-server.md']) {
    assert.ok(pages.includes(p), p);
  }
});

for (const page of pages) {
  test(`guide ${page}: every code block runs`, async () => {
    const blocks = blocksOf(readFileSync(path.join(GUIDES, page), 'utf8'));
    const hooks = HOOKS[page] ?? {};
    const dir = mkdtempSync(path.join(WORK, `${page.replace(/\.md$/, '')}-`));
    const port = await freePort();
    const baseEnv = {
      ...process.env,
      PATH: [path.dirname(process.execPath), PYTHON ? path.dirname(PYTHON) : null, process.env.PATH].filter(Boolean).join(':'),
      ISSUER,
      ADMIN_TOKEN,
      PORT: String(port),
    };
    delete baseEnv.NODE_TEST_CONTEXT;
    const ctx = { dir, port, baseEnv, env: {}, output: '' };
    writeFileSync(path.join(dir, '.session.env'), '');
    const done = new Set();
    const where = (b) => `${page}:${b.line}`;

    // Files first.
    for (const b of blocks) {
      if (['js', 'mjs', 'python', 'py'].includes(b.lang)) {
        assert.match(b.info, /^[\w.-]+$/, `${where(b)}: a ${b.lang} block must name its file`);
        writeFileSync(path.join(dir, b.info), b.code);
        done.add(b);
      }
    }
    // Then the session, in order.
    const started = [];
    try {
      for (const b of blocks) {
        if (done.has(b)) continue;
        assert.ok(['sh', 'shell'].includes(b.lang), `${where(b)}: a \`${b.lang || '(untagged)'}\` block cannot be run`);
        if (b.info === '') {
          const script = `set -eu\n. ./.session.env\n${b.code}\nexport -p > .session.env\nenv -0 > .session.dump\n`;
          const r = await run('sh', ['-c', script], { cwd: dir, env: baseEnv });
          ctx.output += r.out;
          assert.equal(r.code, 0, `${where(b)} failed (${r.code ?? r.signal}):\n${b.code}\n--- stdout\n${r.out}\n--- stderr\n${r.err}`);
          ctx.env = parseEnv(readFileSync(path.join(dir, '.session.dump'), 'utf8'));
        } else if (b.info === 'background' || b.info === 'interactive') {
          const hook = hooks[b.info];
          assert.ok(hook, `${where(b)}: no ${b.info} hook for ${page} in guides.test.mjs`);
          const prog = new Program(b.code, ctx);
          programs.push(prog);
          started.push(prog);
          try {
            await hook(ctx, prog);
          } catch (e) {
            e.message += `\n--- ${where(b)} stdout\n${prog.out}\n--- stderr\n${prog.err}`;
            throw e;
          }
        } else {
          assert.fail(`${where(b)}: unknown sh block kind '${b.info}'`);
        }
        done.add(b);
      }
      await hooks.end?.(ctx);
    } finally {
      started.forEach((p) => p.stop());
    }
    assert.equal(done.size, blocks.length, 'every block ran');
  });
}
