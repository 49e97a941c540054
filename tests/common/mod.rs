//! End-to-end harness: runs the built worker under `wrangler dev` (workerd, local KV and Durable
//! Objects) and talks to it over HTTP. Nothing here uses the server's own code: requests are made
//! with `ureq`, app assertions are signed and access tokens verified with `jsonwebtoken` (ring).
//!
//! The worker must be built first (`sh scripts/build.sh`). Each server runs its own copy of
//! `build/` under a copy of wrangler.toml without the `[build]` table (see
//! `Server::write_config`): wrangler never rebuilds the worker, and neither edits to `src/` nor
//! a rebuild of `build/` reload a running test server.
//!
//! Each server gets a random port, its own inspector port, a fresh `--persist-to` directory
//! under `target/tmp/` and a random `ADMIN_TOKEN` (`--var`); `Server::start_with` adds vars
//! such as `MAX_APPS_PER_OWNER` or `ISSUER`. The harness fails any request answered with a 5xx
//! (503 only allowed from a server started without an admin token).
//!
//! Process hygiene: every server runs in its own process group. Dropping a [`Server`] kills the
//! group (SIGTERM, then SIGKILL). Servers kept in statics are never dropped, so each server also
//! gets a watchdog (`sh`, in its own process group) that kills the group and removes the state
//! directory as soon as the test process is gone, however it ended.

#![allow(dead_code)]

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use serde_json::{json, Value};

pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// `n` random bytes as lower-case hex.
pub fn rand_hex(n: usize) -> String {
    use rand_core::RngCore;
    let mut b = vec![0u8; n];
    rand_core::OsRng.fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A unique owner name for one test (apps are counted and listed per owner).
pub fn owner(tag: &str) -> String {
    format!("e2e-{tag}-{}", rand_hex(6))
}

pub fn b64url(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

pub fn b64url_decode(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(s)
        .unwrap_or_else(|e| panic!("not base64url ({e}): {s}"))
}

/// `application/x-www-form-urlencoded` encoding of one component (everything but unreserved).
pub fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 6749 §2.3.1: id and secret are form-encoded, then Base64.
pub fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", form_encode(id), form_encode(secret)))
    )
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A client id as the server issues them: 32 URL-safe characters.
pub fn looks_like_client_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `METHOD path` for failure messages.
    pub what: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: {} body is not JSON ({e}): {:?}",
                self.what,
                self.status,
                self.text()
            )
        })
    }

    /// The `error` code of an RFC 6749 error body.
    #[track_caller]
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_owned()
    }

    /// Asserts the status; on failure shows the whole response.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Self {
        assert_eq!(
            self.status,
            status,
            "{}: expected {status}, got {} {}",
            self.what,
            self.status,
            self.text()
        );
        self
    }

    /// Asserts a JSON error response (`status`, `error`, a string `error_description`) and
    /// returns the body.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str) -> Value {
        self.expect(status);
        let v = self.json();
        assert_eq!(v["error"], code, "{}: wrong error code in {v}", self.what);
        assert!(
            v["error_description"].is_string(),
            "{}: error_description missing in {v}",
            self.what
        );
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "{}: error is not application/json: {:?}",
            self.what,
            self.headers
        );
        v
    }

    #[track_caller]
    pub fn expect_json(&self, status: u16) -> Value {
        self.expect(status);
        self.json()
    }

    #[track_caller]
    pub fn expect_no_store(&self) -> &Self {
        assert_eq!(
            self.header("cache-control"),
            Some("no-store"),
            "{}: Cache-Control must be no-store: {:?}",
            self.what,
            self.headers
        );
        self
    }
}

/// Options for [`Server::request`].
#[derive(Default, Clone, Copy)]
pub struct Req<'a> {
    pub headers: &'a [(&'a str, &'a str)],
    pub body: Option<&'a [u8]>,
    /// Send the body with `Transfer-Encoding: chunked` instead of a `Content-Length`.
    pub chunked: bool,
}

// ---------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------

struct Proc {
    child: Child,
    watchdog: Child,
}

pub struct Server {
    /// `http://127.0.0.1:<port>`: also the issuer (development mode takes it from the origin).
    pub base: String,
    pub port: u16,
    /// `None` when the server was started without an admin token.
    pub admin_token: Option<String>,
    root: PathBuf,
    vars: Vec<(String, String)>,
    proc: Option<Proc>,
    /// False once the server has served: restarts must keep the port.
    first_start: bool,
    agent: ureq::Agent,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn kill_group(pgid: u32, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals one process group we created.
    unsafe {
        libc::kill(-(pgid as i32), sig);
    }
}

static SERVERS: AtomicUsize = AtomicUsize::new(0);

impl Server {
    /// A server with a random admin token and default configuration.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// A server with extra `--var NAME:value` settings. `("ADMIN_TOKEN", "")` starts it without
    /// an admin token (the admin API answers 503).
    pub fn start_with(vars: &[(&str, &str)]) -> Server {
        let mut all: Vec<(String, String)> =
            vec![("ADMIN_TOKEN".into(), format!("e2e-admin-{}", rand_hex(16)))];
        for (k, v) in vars {
            all.retain(|(n, _)| n != k);
            all.push((k.to_string(), v.to_string()));
        }
        let admin_token = all
            .iter()
            .find(|(k, _)| k == "ADMIN_TOKEN")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty());
        let n = SERVERS.fetch_add(1, Ordering::SeqCst);
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "e2e-{}-{n}-{}",
            std::process::id(),
            rand_hex(3)
        ));
        std::fs::create_dir_all(root.join("state")).unwrap();
        let port = free_port();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Redirects are answers to check, never followed.
            .max_redirects(0)
            .allow_non_standard_methods(true)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .max_idle_connections_per_host(32)
            .max_idle_connections(64)
            .build()
            .into();
        let mut s = Server {
            base: format!("http://127.0.0.1:{port}"),
            port,
            admin_token,
            root,
            vars: all,
            proc: None,
            first_start: true,
            agent,
        };
        s.spawn();
        s.first_start = false;
        s
    }

    /// The server of this test binary, shared by its tests (started on first use; killed by
    /// its watchdog when the test process exits).
    pub fn shared() -> &'static Server {
        static SHARED: OnceLock<Server> = OnceLock::new();
        SHARED.get_or_init(Server::start)
    }

    fn log_path(&self) -> PathBuf {
        self.root.join("wrangler.log")
    }

    /// What wrangler has printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Starts wrangler and waits until it serves. A start that fails on a port already taken
    /// (another process won a race for a port we picked) is retried on fresh ports; a restart
    /// keeps its port, since the issuer is the origin.
    fn spawn(&mut self) {
        for attempt in 1..=3 {
            match self.spawn_once() {
                Ok(()) => return,
                // An early exit: most often a port race, or the worker being rebuilt meanwhile.
                Err(log) if attempt < 3 && !log.contains("was not ready after") => {
                    eprintln!(
                        "[e2e] wrangler failed to start (attempt {attempt}); retrying. Its output:\n{log}"
                    );
                    if self.first_start {
                        self.port = free_port();
                        self.base = format!("http://127.0.0.1:{}", self.port);
                    }
                }
                Err(log) => panic!("{log}"),
            }
        }
    }

    /// The project's wrangler.toml for this server, pointing at a private copy of `build/`,
    /// with the `[build]` table dropped. Without `[build]`, wrangler neither runs the build
    /// command nor watches `src/`; with its own copy of the worker, a rebuild of `build/` while
    /// tests run does not reload the server mid-request either ("Your worker restarted
    /// mid-request"). Next to this config there is no `.dev.vars`, so a developer's local
    /// secrets do not leak into the tests. A restart keeps the copy (same worker, same state).
    fn write_config(&self) -> PathBuf {
        let manifest = env!("CARGO_MANIFEST_DIR");
        let build = PathBuf::from(manifest).join("build");
        assert!(
            build.join("worker/shim.mjs").exists(),
            "{}/worker/shim.mjs is missing: build the worker first (sh scripts/build.sh)",
            build.display()
        );
        let copy = self.root.join("build");
        if self.first_start || !copy.exists() {
            let _ = std::fs::remove_dir_all(&copy);
            copy_dir(&build, &copy);
        }
        let shim = copy.join("worker/shim.mjs");
        let original = std::fs::read_to_string(format!("{manifest}/wrangler.toml")).unwrap();
        let mut out = String::new();
        let mut in_build = false;
        for line in original.lines() {
            let t = line.trim();
            if t.starts_with('[') {
                in_build = t == "[build]" || t.starts_with("[build.");
            }
            if in_build {
                continue;
            }
            if t.starts_with("main") && t.contains('=') {
                out.push_str(&format!("main = \"{}\"\n", shim.display()));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        let path = self.root.join("wrangler.toml");
        std::fs::write(&path, out).unwrap();
        path
    }

    fn spawn_once(&mut self) -> Result<(), String> {
        let manifest = env!("CARGO_MANIFEST_DIR");
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let path = format!(
            "{}/.cargo/bin:{}",
            std::env::var("HOME").unwrap_or_default(),
            std::env::var("PATH").unwrap_or_default()
        );
        let config = self.write_config();
        let mut cmd = Command::new("npx");
        cmd.args(["--no-install", "wrangler", "dev", "--ip", "127.0.0.1"])
            .arg("--config")
            .arg(&config)
            .arg("--port")
            .arg(self.port.to_string())
            .arg("--persist-to")
            .arg(self.root.join("state"))
            // wrangler defaults the inspector to 9229 when that looks free: two servers starting
            // together race for it. Each gets its own port instead.
            .arg("--inspector-port")
            .arg(free_port().to_string())
            .arg("--show-interactive-dev-session=false");
        for (k, v) in &self.vars {
            cmd.arg("--var").arg(format!("{k}:{v}"));
        }
        cmd.current_dir(manifest)
            .env("PATH", path)
            .env("PORTCULLIS_SKIP_BUILD", "1")
            .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
            .env("WRANGLER_SEND_METRICS", "false")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `npx wrangler dev` in {manifest}: {e}"));
        let pgid = child.id();
        // Kills the group (and removes the state) once this test process is gone.
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 1; done; \
             kill -TERM -{pgid} 2>/dev/null; sleep 2; kill -KILL -{pgid} 2>/dev/null; rm -rf '{root}'",
            me = std::process::id(),
            root = self.root.display()
        );
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("cannot start the watchdog");
        self.proc = Some(Proc { child, watchdog });
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let start = Instant::now();
        let url = self.url("/.well-known/jwks.json");
        loop {
            if let Some(p) = self.proc.as_mut() {
                if let Ok(Some(status)) = p.child.try_wait() {
                    let log = self.log();
                    self.stop();
                    // The next attempt's output starts afresh.
                    let _ = std::fs::remove_file(self.log_path());
                    return Err(format!(
                        "wrangler dev exited ({status}) before it was ready:\n{log}"
                    ));
                }
            }
            let r = self
                .agent
                .get(&url)
                .config()
                .timeout_global(Some(Duration::from_secs(10)))
                .build()
                .call();
            if let Ok(resp) = r {
                if resp.status().as_u16() == 200 {
                    return Ok(());
                }
            }
            if start.elapsed() > READY_TIMEOUT {
                let log = self.log();
                self.stop();
                return Err(format!(
                    "wrangler dev was not ready after {READY_TIMEOUT:?} (is the worker built? \
                     run `sh scripts/build.sh`). Its output:\n{log}"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn stop(&mut self) {
        let Some(mut p) = self.proc.take() else {
            return;
        };
        // The watchdog first, so it cannot remove the state of a restarting server.
        kill_group(p.watchdog.id(), libc::SIGKILL);
        let _ = p.watchdog.wait();
        let pgid = p.child.id();
        kill_group(pgid, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = p.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever is left of the group (workerd children) goes now.
        kill_group(pgid, libc::SIGKILL);
        let _ = p.child.wait();
        // Wait until the port is free again (restart reuses it: the issuer is the origin).
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops wrangler and starts it again on the same port with the same persisted state.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The issuer identifier (development mode: the origin the server was reached at).
    pub fn issuer(&self) -> &str {
        &self.base
    }

    // --- HTTP -----------------------------------------------------------------------------

    /// Any request. Panics on a transport error and on any 5xx: the server must never fail
    /// with a server error (503 only from a server started without an admin token).
    #[track_caller]
    pub fn request(&self, method: &str, path: &str, r: Req<'_>) -> Resp {
        let what = format!("{method} {path}");
        let mut b = ureq::http::Request::builder().method(method).uri(self.url(path));
        for (k, v) in r.headers {
            b = b.header(*k, *v);
        }
        let result = match (r.body, r.chunked) {
            (Some(body), true) => {
                // No Content-Length: the server learns the size only by reading.
                let reader = std::io::Cursor::new(body.to_vec());
                self.agent
                    .run(b.body(ureq::SendBody::from_owned_reader(reader)).unwrap())
            }
            (Some(body), false) => self.agent.run(b.body(body).unwrap()),
            (None, _) => self.agent.run(b.body(()).unwrap()),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{what}: transport error: {e}"));
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_vec()
            .unwrap_or_else(|e| panic!("{what}: cannot read the body: {e}"));
        let out = Resp {
            status,
            headers,
            body,
            what,
        };
        let allowed_503 = status == 503 && self.admin_token.is_none();
        assert!(
            status < 500 || allowed_503,
            "{}: server error {} {} (request headers {:?})",
            out.what,
            status,
            out.text(),
            r.headers
        );
        out
    }

    #[track_caller]
    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, Req::default())
    }

    #[track_caller]
    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.request(
            "GET",
            path,
            Req {
                headers,
                body: None,
                ..Default::default()
            },
        )
    }

    /// POST with a raw body and the given headers (content type included).
    #[track_caller]
    pub fn post_raw(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        self.request(
            "POST",
            path,
            Req {
                headers,
                body: Some(body),
                ..Default::default()
            },
        )
    }

    #[track_caller]
    pub fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        self.post_form_with(path, pairs, &[])
    }

    #[track_caller]
    pub fn post_form_with(&self, path: &str, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Resp {
        let mut h = vec![("content-type", "application/x-www-form-urlencoded")];
        h.extend_from_slice(headers);
        self.post_raw(path, &h, form(pairs).as_bytes())
    }

    #[track_caller]
    pub fn post_json(&self, path: &str, body: &Value) -> Resp {
        self.post_json_with(path, body, &[])
    }

    #[track_caller]
    pub fn post_json_with(&self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
        let mut h = vec![("content-type", "application/json")];
        h.extend_from_slice(headers);
        self.post_raw(path, &h, body.to_string().as_bytes())
    }

    // --- Admin API ------------------------------------------------------------------------

    #[track_caller]
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let auth = bearer(self.admin_token.as_deref().unwrap_or(""));
        let text = body.map(|b| b.to_string());
        let mut headers = vec![("authorization", auth.as_str())];
        if text.is_some() {
            headers.push(("content-type", "application/json"));
        }
        self.request(
            method,
            path,
            Req {
                headers: &headers,
                body: text.as_deref().map(str::as_bytes),
                ..Default::default()
            },
        )
    }

    /// Creates an app (asserting 201) and returns what the server answered.
    #[track_caller]
    pub fn create_app(&self, body: Value) -> App {
        let r = self.admin("POST", "/admin/apps", Some(&body));
        let v = r.expect_json(201);
        App::from_json(v)
    }

    /// A trusted confidential app (client_credentials allowed) with the given scopes.
    #[track_caller]
    pub fn trusted_app(&self, scopes: &[&str]) -> App {
        self.create_app(json!({
            "name": format!("e2e trusted {}", rand_hex(3)),
            "owner": owner("t"),
            "trusted": true,
            "scopes": scopes,
        }))
    }

    /// An app with `key` registered as its public key (for app tokens and private_key_jwt).
    #[track_caller]
    pub fn keyed_app(&self, key: &TestKey, extra: Value) -> App {
        let mut body = json!({
            "name": format!("e2e keyed {}", rand_hex(3)),
            "owner": owner("k"),
            "public_key": key.public_jwk(),
        });
        if let Value::Object(m) = extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        self.create_app(body)
    }

    #[track_caller]
    pub fn get_app(&self, id: &str) -> Value {
        self.admin("GET", &format!("/admin/apps/{id}"), None)
            .expect_json(200)
    }

    #[track_caller]
    pub fn patch_app(&self, id: &str, body: Value) -> Resp {
        self.admin("PATCH", &format!("/admin/apps/{id}"), Some(&body))
    }

    // --- OAuth ----------------------------------------------------------------------------

    /// client_credentials with client_secret_basic (form body).
    #[track_caller]
    pub fn cc_basic(&self, id: &str, secret: &str, scope: Option<&str>) -> Resp {
        let mut pairs = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            pairs.push(("scope", s));
        }
        let auth = basic(id, secret);
        self.post_form_with("/oauth/token", &pairs, &[("authorization", &auth)])
    }

    /// client_credentials with client_secret_post (form body).
    #[track_caller]
    pub fn cc_post(&self, id: &str, secret: &str, scope: Option<&str>) -> Resp {
        let mut pairs = vec![
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ];
        if let Some(s) = scope {
            pairs.push(("scope", s));
        }
        self.post_form("/oauth/token", &pairs)
    }

    /// A client_credentials access token for a trusted app (asserting success).
    #[track_caller]
    pub fn cc_token(&self, app: &App) -> String {
        let v = self.cc_basic(&app.id, app.secret(), None).expect_json(200);
        v["access_token"].as_str().unwrap().to_owned()
    }

    /// Introspects with the admin token; returns the JSON (asserting 200).
    #[track_caller]
    pub fn introspect(&self, token: &str) -> Value {
        let auth = bearer(self.admin_token.as_deref().expect("no admin token"));
        self.post_form_with(
            "/oauth/introspect",
            &[("token", token)],
            &[("authorization", &auth)],
        )
        .expect_no_store()
        .expect_json(200)
    }

    #[track_caller]
    pub fn is_active(&self, token: &str) -> bool {
        let v = self.introspect(token);
        match v["active"] {
            Value::Bool(b) => b,
            _ => panic!("introspection without a boolean 'active': {v}"),
        }
    }

    /// `POST /application/token` with the app JWT as bearer, no body.
    #[track_caller]
    pub fn app_token(&self, jwt: &str) -> Resp {
        let auth = bearer(jwt);
        self.request(
            "POST",
            "/application/token",
            Req {
                headers: &[("authorization", &auth)],
                body: None,
                ..Default::default()
            },
        )
    }

    /// The jwt-bearer grant at the token endpoint.
    #[track_caller]
    pub fn jwt_bearer(&self, assertion: &str) -> Resp {
        self.post_form(
            "/oauth/token",
            &[("grant_type", JWT_BEARER), ("assertion", assertion)],
        )
    }

    #[track_caller]
    pub fn jwks(&self) -> Value {
        self.get("/.well-known/jwks.json").expect_json(200)
    }

    /// Verifies an access token with an independent JOSE library against the published JWKS:
    /// RS256, `typ: at+jwt`, a known `kid`, `iss` and `aud` = the issuer, RFC 9068 claims.
    /// Returns the claims.
    #[track_caller]
    pub fn verify_access_token(&self, token: &str) -> Value {
        verify_with_jwks(&self.jwks(), token, self.issuer())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

#[track_caller]
pub fn verify_with_jwks(jwks: &Value, token: &str, issuer: &str) -> Value {
    let header = jsonwebtoken::decode_header(token)
        .unwrap_or_else(|e| panic!("access token header unreadable ({e}): {token}"));
    assert_eq!(header.alg, Algorithm::RS256, "access tokens are RS256");
    assert_eq!(
        header.typ.as_deref(),
        Some("at+jwt"),
        "RFC 9068: typ must be at+jwt"
    );
    let kid = header.kid.expect("access token header has no kid");
    let jwk = jwks["keys"]
        .as_array()
        .expect("JWKS without keys")
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS {jwks}"));
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[issuer]);
    v.set_audience(&[issuer]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    v.leeway = 5;
    let data = jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap_or_else(|e| panic!("access token does not verify against the JWKS: {e}"));
    let c = data.claims;
    for claim in ["client_id", "jti"] {
        assert!(
            c[claim].as_str().is_some_and(|s| !s.is_empty()),
            "RFC 9068 claim {claim} missing: {c}"
        );
    }
    assert!(c["iat"].as_i64().is_some() && c["exp"].as_i64() > c["iat"].as_i64());
    c
}

// ---------------------------------------------------------------------------------------------
// Apps
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub secret: Option<String>,
    pub private_key: Option<String>,
    pub json: Value,
}

impl App {
    #[track_caller]
    pub fn from_json(v: Value) -> App {
        let id = v["client_id"]
            .as_str()
            .unwrap_or_else(|| panic!("no client_id in {v}"))
            .to_owned();
        App {
            id,
            secret: v["client_secret"].as_str().map(str::to_owned),
            private_key: v["private_key"].as_str().map(str::to_owned),
            json: v,
        }
    }

    #[track_caller]
    pub fn secret(&self) -> &str {
        self.secret.as_deref().expect("app has no client_secret")
    }
}

// ---------------------------------------------------------------------------------------------
// App keys and assertions (independent JOSE: jsonwebtoken over ring; keys made with `rsa`)
// ---------------------------------------------------------------------------------------------

pub struct TestKey {
    pub pem: String,
    pub n: String,
    pub e: String,
    pub kid: String,
    encoding: EncodingKey,
}

/// RFC 7638 thumbprint of an RSA key given its base64url `n` and `e`.
pub fn thumbprint(n: &str, e: &str) -> String {
    use sha2::Digest;
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    b64url(&sha2::Sha256::digest(canonical.as_bytes()))
}

impl TestKey {
    /// A fresh RSA-2048 key.
    pub fn generate() -> TestKey {
        use rsa::pkcs8::{EncodePrivateKey, LineEnding};
        let k = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
        let pem = k.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
        Self::from_pem(&pem)
    }

    /// From a PKCS#8 PEM private key (as the admin API's `"key": "generate"` returns).
    #[track_caller]
    pub fn from_pem(pem: &str) -> TestKey {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let k = rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("not a PKCS#8 RSA private key");
        let n = b64url(&k.n().to_bytes_be());
        let e = b64url(&k.e().to_bytes_be());
        TestKey {
            kid: thumbprint(&n, &e),
            encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
            pem: pem.to_owned(),
            n,
            e,
        }
    }

    /// The public JWK (no kid: the server derives it).
    pub fn public_jwk(&self) -> Value {
        json!({"kty": "RSA", "n": self.n, "e": self.e})
    }

    /// The public key as an SPKI PEM.
    pub fn public_pem(&self) -> String {
        use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey, LineEnding};
        rsa::RsaPrivateKey::from_pkcs8_pem(&self.pem)
            .unwrap()
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap()
    }

    /// RS256 JWS of `claims` with this key, `kid` in the header.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_alg(Algorithm::RS256, claims, Some(&self.kid))
    }

    pub fn sign_alg(&self, alg: Algorithm, claims: &Value, kid: Option<&str>) -> String {
        let mut h = Header::new(alg);
        h.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&h, claims, &self.encoding).unwrap()
    }
}

/// Test keys shared by all tests of a binary (generating one costs ~0.1–0.5 s). A public key
/// may be registered by many apps; replay protection is per app.
pub fn test_key(i: usize) -> &'static TestKey {
    static KEYS: [OnceLock<TestKey>; 4] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
    KEYS[i].get_or_init(TestKey::generate)
}

/// Claims of an app token / jwt-bearer assertion: `iss` = the app, fresh `jti`, 5 minutes.
pub fn app_claims(client_id: &str, aud: Option<&str>) -> Value {
    let t = now();
    let mut c = json!({
        "iss": client_id,
        "iat": t,
        "exp": t + 300,
        "jti": rand_hex(12),
    });
    if let Some(a) = aud {
        // The jwt-bearer grant (which needs `aud`) also needs `sub` (RFC 7523 §3 item 2).
        c["aud"] = a.into();
        c["sub"] = client_id.into();
    }
    c
}

/// Claims of a private_key_jwt client assertion (RFC 7523 §3).
pub fn client_assertion_claims(client_id: &str, aud: &str) -> Value {
    let t = now();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": t,
        "exp": t + 120,
        "jti": rand_hex(12),
    })
}

/// An unsigned JWS (`alg: none`).
pub fn unsigned_jwt(claims: &Value) -> String {
    format!(
        "{}.{}.",
        b64url(br#"{"alg":"none","typ":"JWT"}"#),
        b64url(claims.to_string().as_bytes())
    )
}

/// Runs `f(i)` for `i` in `0..n` on `n` threads released together by a barrier; returns the
/// results in thread order.
pub fn concurrently<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let barrier = std::sync::Barrier::new(n);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let (f, b) = (&f, &barrier);
                s.spawn(move || {
                    b.wait();
                    f(i)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// One raw HTTP/1.1 request to `s`, the head sent byte for byte (any bytes, no client
/// normalising the path or the headers); `head` ends with the last header's CRLF. Returns the
/// status and the body.
pub fn raw_http(s: &Server, head: &[u8], body: &[u8]) -> (u16, String) {
    use std::io::{Read, Write};
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    // One write; the server may answer a malformed head and close before reading it all, so a
    // failed write is not an error: the answer is what counts.
    let mut request = head.to_vec();
    request.extend_from_slice(format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes());
    request.extend_from_slice(body);
    let _ = c.write_all(&request);
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}
