// Passkeys (WebAuthn) for the log-in page ("Sign in with a passkey") and /account/passkeys
// ("Add a passkey"). Served from /assets/passkeys.js under the pages' CSP (script-src 'self',
// connect-src 'self'); the pages work without it, the passkey controls stay hidden then.
// The server does every check: this only carries options to navigator.credentials and the
// answer back, binary fields as base64url.
'use strict';
(() => {
  const supported = !!(window.PublicKeyCredential && navigator.credentials && window.fetch);
  // The status line is made on first use, after the passkey controls, so a page has no
  // empty live region before there is something to say.
  let status = null;
  const say = (text, error) => {
    if (!status) {
      const after = document.getElementById('passkey-login') || document.getElementById('passkey-add');
      if (!after) return;
      status = document.createElement('p');
      status.id = 'passkey-status';
      status.setAttribute('role', error ? 'alert' : 'status');
      after.after(status);
    }
    status.textContent = text.charAt(0).toUpperCase() + text.slice(1) + (/[.!?…]$/.test(text) ? '' : '.');
    status.className = error ? 'error' : '';
  };

  const toB64 = (buf) => {
    const bytes = new Uint8Array(buf);
    let s = '';
    for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const fromB64 = (s) => {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    const out = new Uint8Array(b.length);
    for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
    return out.buffer;
  };
  const field = (name) => {
    const input = document.querySelector(`input[name="${name}"]`);
    return input ? input.value : '';
  };

  async function post(url, body) {
    const r = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
    let answer = {};
    try {
      answer = await r.json();
    } catch (_) {
      answer = {};
    }
    // A log-in too old for this action (sudo mode): confirm it is still you, then come back.
    if (r.status === 403 && typeof answer.redirect_to === 'string' && answer.redirect_to.startsWith('/login?')) {
      window.location.assign(answer.redirect_to);
      throw new Error('Confirm it’s you: log in again to continue');
    }
    if (!r.ok) throw new Error(answer.error_description || `the server answered ${r.status}`);
    return answer;
  }

  // A browser or authenticator refusal (cancelled, timed out, no passkey) in plain words.
  const refusal = (e) =>
    e && e.name === 'NotAllowedError'
      ? 'The passkey request was cancelled or timed out.'
      : e && e.name === 'InvalidStateError'
        ? 'This passkey is already registered.'
        : (e && e.message) || 'Something went wrong.';

  async function signIn(button) {
    button.disabled = true;
    say('Waiting for your passkey…');
    try {
      const csrf = field('csrf');
      const { publicKey } = await post('/login/passkey/options', { csrf });
      publicKey.challenge = fromB64(publicKey.challenge);
      publicKey.allowCredentials = (publicKey.allowCredentials || []).map((c) => ({ ...c, id: fromB64(c.id) }));
      const cred = await navigator.credentials.get({ publicKey });
      const r = cred.response;
      const done = await post('/login/passkey', {
        csrf,
        return_to: field('return_to'),
        credential: {
          id: cred.id,
          rawId: toB64(cred.rawId),
          type: cred.type,
          response: {
            clientDataJSON: toB64(r.clientDataJSON),
            authenticatorData: toB64(r.authenticatorData),
            signature: toB64(r.signature),
            userHandle: r.userHandle ? toB64(r.userHandle) : null,
          },
        },
      });
      say('Signed in.');
      window.location.assign(done.redirect_to);
    } catch (e) {
      say(refusal(e), true);
      button.disabled = false;
    }
  }

  async function add(form) {
    const button = form.querySelector('button');
    button.disabled = true;
    say('Follow your browser’s steps to create the passkey…');
    try {
      const csrf = field('csrf');
      const { publicKey } = await post('/account/passkeys/options', { csrf });
      publicKey.challenge = fromB64(publicKey.challenge);
      publicKey.user.id = fromB64(publicKey.user.id);
      publicKey.excludeCredentials = (publicKey.excludeCredentials || []).map((c) => ({ ...c, id: fromB64(c.id) }));
      const cred = await navigator.credentials.create({ publicKey });
      const r = cred.response;
      await post('/account/passkeys', {
        csrf,
        name: form.querySelector('input[name="name"]').value,
        credential: {
          id: cred.id,
          rawId: toB64(cred.rawId),
          type: cred.type,
          response: {
            clientDataJSON: toB64(r.clientDataJSON),
            attestationObject: toB64(r.attestationObject),
            transports: typeof r.getTransports === 'function' ? r.getTransports() : [],
          },
        },
      });
      window.location.assign('/account/passkeys?added=1');
    } catch (e) {
      say(refusal(e), true);
      button.disabled = false;
    }
  }

  const login = document.getElementById('passkey-login');
  const adder = document.getElementById('passkey-add');
  if (!supported) {
    if (adder) say('This browser cannot use passkeys.');
    return;
  }
  if (login) {
    login.hidden = false;
    const button = login.querySelector('button');
    button.addEventListener('click', () => signIn(button));
  }
  if (adder) {
    adder.hidden = false;
    adder.addEventListener('submit', (e) => {
      e.preventDefault();
      add(adder);
    });
  }
})();
