//! The `portcullis` command-line tool (cli/) end to end: the built binary, run as an operator
//! would, against the worker under `wrangler dev`. The binary is built here once
//! (`cargo build -p portcullis-cli`, same lockfile and target directory), so `cargo test` at
//! the root needs nothing else.
//!
//! Each run gets its own config file (PORTCULLIS_CONFIG) and no PORTCULLIS_* from outside.

mod common;

use common::*;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

fn bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        // scripts/test.sh builds the CLI in the same cargo run as the tests (its dependencies'
        // features unified with theirs, so they compile once) and names it here.
        if let Some(bin) = std::env::var_os("PORTCULLIS_CLI_BIN") {
            let bin = PathBuf::from(bin);
            assert!(bin.is_file(), "PORTCULLIS_CLI_BIN: no file at {}", bin.display());
            return bin;
        }
        // target/<profile>/deps/cli-… → target/<profile>
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args([
            "build",
            "--locked",
            "--quiet",
            "-p",
            "portcullis-cli",
            "--bin",
            "portcullis",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name() == Some(OsStr::new("release")) {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("cannot run cargo to build the CLI");
        assert!(status.success(), "building the portcullis CLI failed");
        let bin = profile_dir.join("portcullis");
        assert!(bin.is_file(), "no CLI binary at {}", bin.display());
        bin
    })
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "expected success; stderr: {}\nstdout: {}",
            self.stderr, self.stdout
        );
        self
    }

    #[track_caller]
    fn fails(&self, code: i32, says: &str) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}; stderr: {}\nstdout: {}",
            self.stderr, self.stdout
        );
        assert!(
            self.stderr.contains(says),
            "stderr should say {says:?}: {}",
            self.stderr
        );
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// An operator's home: a private directory with the config file the CLI uses.
struct Home {
    dir: PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "cli-{}-{}",
            std::process::id(),
            rand_hex(4)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Home { dir }
    }

    fn config(&self) -> PathBuf {
        self.dir.join("config").join("portcullis.json")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    #[track_caller]
    fn run_with<S: AsRef<OsStr>>(&self, args: &[S], stdin: &str, env: &[(&str, &str)]) -> Run {
        use std::io::Write;
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .env_remove("PORTCULLIS_SERVER")
            .env_remove("PORTCULLIS_TOKEN")
            .env("PORTCULLIS_CONFIG", self.config())
            .env("HOME", &self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("cannot run the CLI");
        // A CLI that exits without reading its stdin (refused arguments) closes the pipe.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, "", &[])
    }

    /// Logged in to `s` with its admin token (through stdin, as a script would).
    fn logged_in(s: &Server) -> Home {
        let h = Home::new();
        h.run_with(
            &["login", "--server", &s.base],
            s.admin_token.as_deref().unwrap(),
            &[],
        )
        .ok();
        h
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn an_operator_manages_an_app_from_login_to_removal() {
    let s = Server::shared();
    let h = Home::new();
    // login: the token from stdin, checked against the server, stored 0600.
    let r = h.run_with(
        &["login", "--server", &format!("{}/", s.base)],
        &format!("{}\n", s.admin_token.as_deref().unwrap()),
        &[],
    );
    r.ok();
    assert!(r.stdout.contains("logged in to"), "{}", r.stdout);
    let stored: Value = serde_json::from_str(&std::fs::read_to_string(h.config()).unwrap()).unwrap();
    assert_eq!(stored["server"], s.base.as_str());
    assert_eq!(stored["token"], s.admin_token.as_deref().unwrap());
    #[cfg(unix)]
    assert_eq!(mode(&h.config()), 0o600);

    // create
    let tag = rand_hex(6);
    let name = format!("CLI app {tag}");
    let created = h
        .run(&[
            "apps",
            "create",
            "--json",
            "--name",
            &name,
            "--scope",
            "public",
            "--trusted",
            "true",
            "--grant-type",
            "client_credentials",
            "--description",
            "made by the CLI test",
        ])
        .ok()
        .json();
    let id = created["client_id"].as_str().unwrap().to_owned();
    let first_secret = created["client_secret"].as_str().unwrap().to_owned();
    assert!(looks_like_client_id(&id), "{id}");
    assert_eq!(s.get_app(&id)["name"], name.as_str());
    // A second one the name filter must leave out.
    let other = h
        .run(&[
            "apps",
            "create",
            "--json",
            "--name",
            &format!("Other {}", rand_hex(6)),
        ])
        .ok()
        .json();

    // list with a filter: only this app, in JSON and in the table.
    let listed = h.run(&["apps", "list", "--json", "--name", &tag]).ok().json();
    let ids: Vec<&str> = listed["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()], "{listed}");
    let table = h
        .run(&["apps", "list", "--name", &tag, "--status", "active"])
        .ok()
        .stdout
        .clone();
    assert!(
        table.starts_with("CLIENT_ID") && table.contains(&id) && table.contains(&name),
        "{table}"
    );
    assert!(!table.contains(other["client_id"].as_str().unwrap()), "{table}");
    let paged = h
        .run(&["apps", "list", "--json", "--limit", "1", "--all"])
        .ok()
        .json();
    assert!(
        paged["apps"].as_array().unwrap().len() >= 2,
        "--all follows the cursor: {paged}"
    );
    assert!(paged["next_cursor"].is_null());

    // show and edit
    let shown = h.run(&["apps", "show", &id]).ok().stdout.clone();
    assert!(
        shown.starts_with(&format!("client_id"))
            && shown.contains(&name)
            && shown.contains("made by the CLI test"),
        "{shown}"
    );
    let edited = h
        .run(&[
            "apps",
            "edit",
            &id,
            "--json",
            "--description",
            "edited",
            "--set",
            "token_lifetime=900",
        ])
        .ok()
        .json();
    assert_eq!(edited["description"], "edited");
    assert_eq!(s.get_app(&id)["token_lifetime"], 900);
    h.run(&["apps", "edit", &id]).fails(1, "nothing to change");

    // key generate: a new 0600 file, never over an existing one.
    let key = h.path("app-key.pem");
    let r = h.run(&["apps", "key", "generate", &id, "--out", key.to_str().unwrap()]);
    r.ok();
    assert!(std::fs::read_to_string(&key)
        .unwrap()
        .starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    assert_eq!(mode(&key), 0o600);
    let keys = h.run(&["apps", "key", "list", &id, "--json"]).ok().json();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{keys}");
    let before = std::fs::read(&key).unwrap();
    h.run(&["apps", "key", "generate", &id, "--out", key.to_str().unwrap()])
        .fails(4, "exists");
    assert_eq!(
        std::fs::read(&key).unwrap(),
        before,
        "the key file was overwritten"
    );
    assert_eq!(
        s.admin("GET", &format!("/admin/apps/{id}/keys"), None)
            .expect_json(200)["keys"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // token: an app token from an assertion signed with that file, and it works.
    let r = h.run(&["token", "--app", &id, "--key", key.to_str().unwrap()]);
    r.ok();
    let token = r.stdout.trim().to_owned();
    let me = s
        .get_with("/oauth/userinfo", &[("authorization", &bearer(&token))])
        .expect_json(200);
    assert_eq!(me["sub"], format!("bot_{id}"));
    assert_eq!(me["client_id"], id.as_str());
    let full = h
        .run(&["token", "--json", "--app", &id, "--key", key.to_str().unwrap()])
        .ok()
        .json();
    assert_eq!(full["token_type"], "Bearer", "{full}");
    assert!(full["expires_in"].as_u64().unwrap() > 0);
    // The assertion is what the guide says: iss, iat, exp = iat + 600, a jti.
    let a = h
        .run(&[
            "token",
            "--assertion-only",
            "--app",
            &id,
            "--key",
            key.to_str().unwrap(),
        ])
        .ok()
        .stdout
        .clone();
    let claims: Value = serde_json::from_slice(&b64url_decode(a.trim().split('.').nth(1).unwrap())).unwrap();
    assert_eq!(claims["iss"], id.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    assert!(claims["jti"].is_string());
    // The same assertion twice: the second is a replay the server refuses.
    s.app_token(a.trim()).expect(200);
    let replay = s.app_token(a.trim());
    assert!(
        (400..500).contains(&replay.status),
        "a replayed assertion: {}",
        replay.status
    );

    // secret regenerate: printed once, the old one stops working.
    let r = h.run(&["apps", "secret", "regenerate", &id]);
    r.ok();
    let new_secret = r
        .stdout
        .split_whitespace()
        .find(|w| w.len() >= 20 && !w.contains(&id))
        .unwrap()
        .to_owned();
    assert_ne!(new_secret, first_secret);
    s.cc_basic(&id, &new_secret, None).expect(200);
    s.cc_basic(&id, &first_secret, None).expect(401);

    // key remove: its tokens go, and `token` is refused (exit 2).
    let kid = keys["keys"][0]["kid"].as_str().unwrap().to_owned();
    // (a second key first, so the app keeps one)
    let key2 = h.path("second.pem");
    h.run(&["apps", "key", "generate", &id, "--out", key2.to_str().unwrap()])
        .ok();
    h.run(&["apps", "key", "remove", &id, &kid]).ok();
    h.run(&["token", "--app", &id, "--key", key.to_str().unwrap()])
        .fails(2, "the server refused (401");
    h.run(&["token", "--app", &id, "--key", key2.to_str().unwrap()])
        .ok();

    // disable: status shows it, and the app's token requests are refused.
    let r = h.run(&["apps", "disable", &id]);
    r.ok();
    assert!(r.stdout.contains("disabled"), "{}", r.stdout);
    assert_eq!(s.get_app(&id)["status"], "disabled");
    h.run(&["token", "--app", &id, "--key", key2.to_str().unwrap()])
        .fails(2, "the server refused");
    assert_eq!(
        h.run(&["apps", "enable", &id, "--json"]).ok().json()["status"],
        "active"
    );

    // remove: gone, and showing it again is the server's not_found (exit 2).
    h.run(&["apps", "remove", &id]).ok();
    s.admin("GET", &format!("/admin/apps/{id}"), None).expect(404);
    h.run(&["apps", "show", &id]).fails(2, "404 not_found");
    h.run(&["apps", "remove", other["client_id"].as_str().unwrap(), "--json"])
        .ok();

    // logout forgets the token.
    h.run(&["logout"]).ok();
    assert!(!h.config().exists());
    h.run(&["apps", "list"]).fails(1, "portcullis login");
}

#[test]
fn hostile_input_and_failures_have_their_exit_codes() {
    let s = Server::shared();
    let h = Home::logged_in(s);

    // A wrong token: the server's refusal, plainly (exit 2); login stores nothing.
    h.run_with(&["apps", "list"], "", &[("PORTCULLIS_TOKEN", "wrong-token")])
        .fails(2, "401 invalid_token")
        .fails(2, "a valid admin token is required");
    let fresh = Home::new();
    fresh
        .run_with(&["login", "--server", &s.base], "wrong-token\n", &[])
        .fails(2, "invalid_token");
    assert!(!fresh.config().exists(), "a refused token was stored");
    fresh
        .run_with(&["login", "--server", &s.base], "\n", &[])
        .fails(1, "empty");
    fresh
        .run_with(&["login", "--server", &s.base], "two words\n", &[])
        .fails(1, "spaces");
    // --json errors are JSON on stderr.
    let r = h.run_with(
        &["apps", "list", "--json"],
        "",
        &[("PORTCULLIS_TOKEN", "wrong-token")],
    );
    assert_eq!(r.code, 2);
    let e: Value = serde_json::from_str(r.stderr.trim()).unwrap();
    assert_eq!(e["error"], "invalid_token");
    assert_eq!(e["status"], 401);

    // The stored token is never sent to another server named on the command line.
    let r = h.run(&["--server", "http://127.0.0.1:9", "apps", "list"]);
    r.fails(1, "no admin token");

    // Unreachable server (a port nobody listens on): exit 3, named.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    h.run_with(
        &["--server", &dead, "apps", "list"],
        "",
        &[("PORTCULLIS_TOKEN", "x")],
    )
    .fails(3, &format!("cannot reach {dead}"));
    Home::new()
        .run_with(&["login", "--server", &dead], "tok\n", &[])
        .fails(3, "cannot reach");

    // Plain http:// to a host that is not this machine: refused before any request.
    for url in [
        "http://auth.example.com",
        "http://10.1.2.3:8787",
        "http://localhost.example.com",
    ] {
        h.run_with(
            &["--server", url, "apps", "list"],
            "",
            &[("PORTCULLIS_TOKEN", "x")],
        )
        .fails(1, "localhost only");
        Home::new()
            .run_with(&["login", "--server", url], "tok\n", &[])
            .fails(1, "localhost only");
    }
    h.run_with(
        &["apps", "list"],
        "",
        &[("PORTCULLIS_SERVER", "http://auth.example.com")],
    )
    .fails(1, "localhost only");
    h.run(&["--server", "ftp://x", "apps", "list"])
        .fails(1, "https://");
    h.run(&["--server", "https://u:p@x.example", "apps", "list"])
        .fails(1, "credentials");

    // Key files: missing, a directory, not a key, a private key where a public one goes.
    h.run(&["token", "--app", "x", "--key", "/nonexistent/key.pem"])
        .fails(4, "cannot read the key file");
    h.run(&["token", "--app", "x", "--key", h.dir.to_str().unwrap()])
        .fails(4, "cannot read the key file");
    let junk = h.path("junk.pem");
    std::fs::write(&junk, b"\xff\xfe not a key").unwrap();
    h.run(&["token", "--app", "x", "--key", junk.to_str().unwrap()])
        .fails(4, "junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    h.run(&["token", "--app", "x", "--key", junk.to_str().unwrap()])
        .fails(4, "not an RSA private key");
    let app = s.trusted_app(&["public"]);
    h.run(&["apps", "key", "add", &app.id, junk.to_str().unwrap()])
        .fails(4, "private key");
    h.run(&["apps", "key", "add", &app.id, "/nonexistent.pub"])
        .fails(4, "cannot read");
    // --out into a directory that does not exist: a file error, and no key registered.
    h.run(&[
        "apps",
        "key",
        "generate",
        &app.id,
        "--out",
        "/nonexistent/dir/k.pem",
    ])
    .fails(4, "cannot create");
    assert_eq!(s.get_app(&app.id)["keys"].as_array().map_or(0, Vec::len), 0);
    // A key for an app that does not exist: the server's 404, and no file left behind.
    let stray = h.path("stray.pem");
    h.run(&[
        "apps",
        "key",
        "generate",
        "no-such-app",
        "--out",
        stray.to_str().unwrap(),
    ])
    .fails(2, "404");
    assert!(!stray.exists());
    // An unknown app's token: the server refuses (exit 2), the key file is fine.
    let key = h.path("k.pem");
    h.run(&["apps", "key", "generate", &app.id, "--out", key.to_str().unwrap()])
        .ok();
    h.run(&["token", "--app", "no-such-app", "--key", key.to_str().unwrap()])
        .fails(2, "the server refused");

    // Bad input reaches the server and is refused there (400, exit 2), never a 5xx.
    let huge = "x".repeat(100_000);
    h.run(&["apps", "create", "--name", &huge])
        .fails(2, "the server refused (4");
    h.run(&[
        "apps",
        "create",
        "--name",
        "ok",
        "--redirect-uri",
        "javascript:alert(1)",
    ])
    .fails(2, "400 invalid");
    h.run(&["apps", "edit", &app.id, "--set", "no_such_field=1"])
        .fails(2, "400 invalid_request");
    h.run(&["apps", "edit", &app.id, "--set", "=1"])
        .fails(1, "FIELD=VALUE");
    h.run(&["apps", "list", "--status", "sideways"]).fails(2, "400");
    h.run(&["apps", "show", "../../admin/apps"]).fails(2, "404");
    // Arguments that are not UTF-8, and usage errors: exit 1 (never clap's 2).
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let r = h.run_with(
            &[
                OsStr::new("apps"),
                OsStr::new("show"),
                OsStr::from_bytes(b"\xff\xfe"),
            ],
            "",
            &[],
        );
        assert_eq!(r.code, 1, "{}", r.stderr);
    }
    h.run(&["apps", "frobnicate"]).fails(1, "unrecognized subcommand");
    h.run(&["apps", "list", "--limit", "0"]).fails(1, "limit");
    h.run(&["apps", "create", "--trusted", "perhaps"])
        .fails(1, "perhaps");
    assert_eq!(h.run(&["--help"]).ok().stdout.contains("Exit codes"), true);

    // Completions.
    for shell in ["bash", "zsh", "fish"] {
        let r = h.run(&["completions", shell]);
        r.ok();
        assert!(
            r.stdout.contains("portcullis") && r.stdout.contains("apps"),
            "{shell}"
        );
    }
    h.run(&["completions", "tcsh"]).fails(1, "tcsh");
}

/// `users` and `audit` are written against the shapes issue 19 describes (cli/src/users_audit.rs);
/// tested here once the server has those endpoints.
#[test]
fn users_and_audit_when_the_server_has_them() {
    let s = Server::shared();
    let h = Home::logged_in(s);
    let has = |path: &str| s.admin("GET", path, None).status != 404;
    if has("/admin/users") {
        let v = h.run(&["users", "list", "--json", "--limit", "10"]).ok().json();
        assert!(v["users"].is_array(), "{v}");
        h.run(&["users", "disable", "no-such-person"]).fails(2, "404");
        h.run(&["users", "remove", "no-such-person"]).fails(2, "404");
    } else {
        eprintln!("SKIPPED: users: GET /admin/users is not on this server yet (404); cli/src/users_audit.rs is untested end to end");
        h.run(&["users", "list"]).fails(2, "404 not_found");
    }
    if has("/admin/audit") {
        let app = s.trusted_app(&["public"]);
        let v = h
            .run(&["audit", "--json", "--app", &app.id, "--limit", "5"])
            .ok()
            .json();
        assert!(v["events"].is_array(), "{v}");
        h.run(&["audit"]).ok();
    } else {
        eprintln!("SKIPPED: audit: GET /admin/audit is not on this server yet (404); cli/src/users_audit.rs is untested end to end");
        h.run(&["audit", "--type", "app.created"])
            .fails(2, "404 not_found");
    }
}

/// A browser on one host: cookies kept from `Set-Cookie`, forms posted with the page's CSRF
/// token. Enough for signing up, logging in and the console's sign-in.
struct Tab<'a> {
    h: Host<'a>,
    jar: std::cell::RefCell<Vec<(String, String)>>,
}

impl<'a> Tab<'a> {
    fn new(h: Host<'a>) -> Self {
        Tab { h, jar: Default::default() }
    }

    #[track_caller]
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Resp {
        let c: String = self.jar.borrow().iter().map(|(k, v)| format!("{k}={v}; ")).collect();
        let mut h: Vec<(&str, &str)> = headers.to_vec();
        if !c.is_empty() {
            h.push(("cookie", c.as_str()));
        }
        let r = self.h.request(method, path, &h, body);
        for (k, v) in &r.headers {
            if k == "set-cookie" {
                let (name, value) = v.split(';').next().unwrap().split_once('=').unwrap();
                let mut jar = self.jar.borrow_mut();
                jar.retain(|(n, _)| n != name);
                jar.push((name.to_owned(), value.to_owned()));
            }
        }
        r
    }

    /// Posts the form of `page_path` to `action`, with its CSRF token.
    #[track_caller]
    fn submit(&self, page_path: &str, action: &str, pairs: &[(&str, &str)]) -> Resp {
        let page = self.send("GET", page_path, &[], None);
        page.expect(200);
        let html = page.text();
        let at = html.find("name=\"csrf\" value=\"").expect("no csrf field") + "name=\"csrf\" value=\"".len();
        let csrf = html[at..][..html[at..].find('"').unwrap()].to_owned();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(pairs);
        let body = form(&all);
        self.send(
            "POST",
            action,
            &[("content-type", "application/x-www-form-urlencoded")],
            Some(body.as_bytes()),
        )
    }
}

const BACKUP_PASSWORD: &str = "glass-orchard-71";

/// `users get` and `users reset`, then a backup of one server restored into a second, fresh one
/// (its own port and state): the person logs in there with their password, the app's key signs
/// an app token and its secret gets a client_credentials token, the owner operator signs in to
/// the console; a second import changes nothing. Then what must be refused is.
#[test]
fn a_backup_restores_into_a_fresh_server_and_hostile_files_are_refused() {
    let a = Server::shared();
    let ha = Home::logged_in(a);
    let a_host = Host { s: a, host: format!("127.0.0.1:{}", a.port) };
    // The shell completions know the new commands.
    for shell in ["bash", "zsh", "fish"] {
        let c = ha.run(&["completions", shell]).ok().stdout.clone();
        assert!(c.contains("export") && c.contains("import") && c.contains("reset"), "{shell}");
    }

    // On the first server: an app with a secret and a key, an owner operator, a person.
    let tag = rand_hex(6);
    let app = ha
        .run(&[
            "apps", "create", "--json", "--name", &format!("Backup {tag}"), "--scope", "public",
            "--trusted", "true", "--grant-type", "client_credentials",
        ])
        .ok()
        .json();
    let id = app["client_id"].as_str().unwrap().to_owned();
    let secret = app["client_secret"].as_str().unwrap().to_owned();
    let key = ha.path("app.pem");
    ha.run(&["apps", "key", "generate", &id, "--out", key.to_str().unwrap()]).ok();
    let owner_email = format!("owner-{tag}@example.com");
    a.admin(
        "POST",
        "/admin/operators",
        Some(&json!({"email": owner_email, "name": "Owner", "role": "owner", "password": BACKUP_PASSWORD})),
    )
    .expect_json(201);
    let email = format!("backup-{tag}@example.com");
    let tab = Tab::new(Host { s: a, host: a_host.host.clone() });
    let r = tab.submit("/signup", "/signup", &[("name", "Bea"), ("email", &email), ("password", BACKUP_PASSWORD)]);
    r.expect(200);
    let listed = ha.run(&["users", "list", "--json", "--all"]).ok().json();
    let uid = listed["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email.as_str())
        .unwrap_or_else(|| panic!("{email} not listed: {listed}"))["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // users get: JSON and the human form; refusals with the server's words.
    let shown = ha.run(&["users", "get", &uid, "--json"]).ok().json();
    assert_eq!((shown["email"].as_str(), shown["status"].as_str()), (Some(email.as_str()), Some("active")));
    let human = ha.run(&["users", "get", &uid]).ok().stdout.clone();
    assert!(human.contains(&email) && human.contains("status"), "{human}");
    ha.run(&["users", "get", "no-such-person"]).fails(2, "404 not_found");
    ha.run(&["users", "get", &format!("bot_{id}")]).fails(2, "bot user");
    ha.run(&["users", "reset", "a b"]).fails(2, "400");

    // export: a new 0600 file, never over an existing one; hashes, no secrets.
    let file = ha.path("backup.ndjson");
    let f = file.to_str().unwrap();
    let r = ha.run(&["export", "--out", f]);
    r.ok();
    assert!(r.stdout.contains("exported") && r.stderr.contains("signing keys"), "{}{}", r.stdout, r.stderr);
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("{\"header\"") || text.contains("\"format\":\"portcullis-export\""), "{text}");
    assert!(text.contains(&id) && text.contains(&email) && text.contains("argon2id$v=19"));
    assert!(!text.contains(&secret) && !text.contains("PRIVATE KEY") && !text.contains(BACKUP_PASSWORD));
    assert!(text.trim_end().ends_with("}}") && text.lines().last().unwrap().starts_with("{\"end\""));
    ha.run(&["export", "--out", f]).fails(4, "exists");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "the backup was overwritten");
    ha.run(&["export", "--out", "/nonexistent/dir/b.ndjson"]).fails(4, "cannot create");

    // A second, fresh server (its own port and state), with organisations for the tenant checks;
    // the CLI reaches its platform host as localhost.
    let b = Server::start_with(&[("ORG_DOMAIN", "localhost")]);
    let b_url = format!("http://localhost:{}", b.port);
    let hb = Home::new();
    hb.run_with(&["login", "--server", &b_url], b.admin_token.as_deref().unwrap(), &[]).ok();
    let bp = b.platform_host();

    // A dry run changes nothing.
    let dry = hb.run(&["import", f, "--dry-run", "--json"]).ok().json();
    assert_eq!(dry["dry_run"], true);
    assert!(dry["counts"]["created"].as_u64().unwrap() >= 3, "{dry}");
    bp.admin("GET", &format!("/admin/apps/{id}"), None).expect(404);

    let done = hb.run(&["import", f, "--json"]).ok().json();
    assert_eq!((done["counts"]["refused"].as_u64(), done["counts"]["conflict"].as_u64()), (Some(0), Some(0)), "{done}");
    let human = hb.run(&["import", f]).ok().stdout.clone();
    assert!(human.contains("0 created") && human.contains("unchanged"), "a second import: {human}");

    // The restored person logs in with their password; a wrong one is still refused.
    let tb = Tab::new(b.platform_host());
    let r = tb.submit("/login", "/login", &[("email", &email), ("password", BACKUP_PASSWORD)]);
    r.expect(303);
    let r = Tab::new(b.platform_host()).submit("/login", "/login", &[("email", &email), ("password", "not-the-password-9")]);
    assert_ne!(r.status, 303);
    // The app's key signs an app token there, and its secret gets a client_credentials token.
    let token = hb.run(&["token", "--app", &id, "--key", key.to_str().unwrap()]).ok().stdout.trim().to_owned();
    let me = bp.userinfo(&token).expect_json(200);
    assert_eq!(me["sub"], format!("bot_{id}"));
    bp.cc(&id, &secret).expect_json(200);
    // A token of the first server is nothing at the second (other signing keys).
    let old = a.cc_token(&App::from_json(json!({"client_id": id, "client_secret": secret})));
    bp.userinfo(&old).expect(401);
    // The owner operator signs in to the console with their password, and may export there.
    let console = Tab::new(b.platform_host());
    let r = console.submit(
        "/admin/console/login",
        "/admin/console/login",
        &[("email", &owner_email), ("password", BACKUP_PASSWORD)],
    );
    r.expect(303);
    console.send("GET", "/admin/export", &[], None).expect_json(200);

    // users reset on the restored person: the password stops working, and it was emailed.
    let reset = hb.run(&["users", "reset", &uid, "--json"]).ok().json();
    assert_eq!(reset["email"], email.as_str());
    let r = Tab::new(b.platform_host()).submit("/login", "/login", &[("email", &email), ("password", BACKUP_PASSWORD)]);
    assert_ne!(r.status, 303, "the password still works after a reset");
    assert!(hb.run(&["users", "reset", &uid]).ok().stdout.contains("reset link"));

    // Hostile files: not UTF-8, truncated (no end marker, a line cut), another version.
    let bad = hb.path("bad.ndjson");
    let badf = bad.to_str().unwrap();
    std::fs::write(&bad, b"\xff\xfe\x00garbage\n").unwrap();
    hb.run(&["import", badf]).fails(4, "UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&bad, lines[..lines.len() - 1].join("\n")).unwrap();
    hb.run(&["import", badf]).fails(4, "truncated");
    let cut = &text[..text.len() - text.lines().last().unwrap().len() - 20];
    std::fs::write(&bad, cut).unwrap();
    hb.run(&["import", badf]).fails(4, "line");
    std::fs::write(&bad, text.replacen("\"version\":1", "\"version\":2", 1)).unwrap();
    hb.run(&["import", badf]).fails(2, "version 2");
    hb.run(&["import", "/nonexistent.ndjson"]).fails(4, "cannot read");
    // A record changed by hand: refused (exit 2), the rest unchanged.
    std::fs::write(&bad, text.replacen(&email, &format!("x{email}"), 1)).unwrap();
    let r = hb.run(&["import", badf]);
    r.fails(2, "refused");
    assert!(r.stdout.contains("checksum"), "{}", r.stdout);
    // The import as another content type: 415.
    let auth = bearer(b.admin_token.as_deref().unwrap());
    let body = text.lines().take(2).collect::<Vec<_>>().join("\n");
    bp.request(
        "POST",
        "/admin/import",
        &[("authorization", &auth), ("content-type", "application/json")],
        Some(body.as_bytes()),
    )
    .expect_error(415, "invalid_request");
    // A read-only and an admin operator may not export nor import (owners only).
    for (role, who) in [("read_only", "ro"), ("admin", "adm")] {
        let e = format!("{who}-{tag}@example.com");
        bp.admin(
            "POST",
            "/admin/operators",
            Some(&json!({"email": e, "name": who, "role": role, "password": BACKUP_PASSWORD})),
        )
        .expect_json(201);
        let t = Tab::new(b.platform_host());
        t.submit("/admin/console/login", "/admin/console/login", &[("email", &e), ("password", BACKUP_PASSWORD)])
            .expect(303);
        let r = t.send("GET", "/admin/export", &[], None);
        assert!(r.expect_error(403, "access_denied")["error_description"].as_str().unwrap().contains("owner"));
    }
    // Another organisation's export is refused as a whole.
    b.create_org("acme");
    b.create_org("beta");
    let acme = b.org_host("acme");
    acme.trusted_app(&["public"]);
    let page = acme.admin("GET", "/admin/export?cursor=apps:", None).expect_json(200);
    assert_eq!(page["header"]["tenant"], "acme");
    let mut nd = vec![page["header"].to_string()];
    nd.extend(page["records"].as_array().unwrap().iter().map(Value::to_string));
    assert!(nd.len() >= 2, "{page}");
    let beta = b.org_host("beta");
    let r = beta.request(
        "POST",
        "/admin/import",
        &[("authorization", &auth), ("content-type", "application/x-ndjson")],
        Some(nd.join("\n").as_bytes()),
    );
    assert!(r.expect_error(403, "access_denied")["error_description"].as_str().unwrap().contains("acme"));
    assert!(beta.admin("GET", "/admin/apps", None).expect_json(200)["apps"].as_array().unwrap().is_empty());
    // The default tenant's export into an organisation: refused too.
    let r = acme.request(
        "POST",
        "/admin/import",
        &[("authorization", &auth), ("content-type", "application/x-ndjson")],
        Some(body.as_bytes()),
    );
    r.expect_error(403, "access_denied");
}
