//! `portcullis`: the operator's command-line tool over the admin API (`/admin/*`).
//! Exit codes and environment: see `portcullis --help` (args.rs) and error.rs.

mod args;
mod assertion;
mod backup;
mod client;
mod config;
mod error;
mod files;
mod listing;
mod output;
mod users_audit;

use args::{AppFields, AppsCmd, Cli, Command, CreateArgs, KeyCmd, SecretCmd, UsersCmd};
use clap::{CommandFactory, Parser};
use client::{Body, Client};
use error::{Error, Result};
use serde_json::{json, Map, Value};
use std::io::{IsTerminal, Read, Write};
use std::path::Path;

const APP_COLUMNS: &[(&str, &str)] = &[
    ("CLIENT_ID", "client_id"),
    ("NAME", "name"),
    ("OWNER", "owner"),
    ("STATUS", "status"),
    ("GRANT_TYPES", "grant_types"),
];
const APP_FIRST: &[&str] = &[
    "client_id",
    "name",
    "status",
    "owner",
    "description",
    "homepage",
    "grant_types",
    "scopes",
    "redirect_uris",
];

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors; every usage error exits 1 (clap's own is 2,
            // which here means "the server refused").
            std::process::exit(if e.use_stderr() {
                error::EXIT_USAGE
            } else {
                error::EXIT_OK
            });
        }
    };
    let json = cli.json;
    let mut out = String::new();
    let code = match run(cli, &mut out) {
        Ok(()) => error::EXIT_OK,
        Err(e) => {
            if json {
                eprintln!("{}", e.to_json());
            } else {
                eprintln!("portcullis: {e}");
            }
            e.exit_code()
        }
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    std::process::exit(code);
}

/// Prints a value: its JSON with `--json`, else what `human` makes of it.
fn emit(out: &mut String, json: bool, v: &Value, human: impl FnOnce(&Value) -> String) {
    if json {
        out.push_str(&serde_json::to_string_pretty(v).unwrap_or_default());
        out.push('\n');
    } else {
        out.push_str(&human(v));
    }
}

fn note(json: bool, msg: &str) {
    if !json {
        eprintln!("{msg}");
    }
}

fn run(cli: Cli, out: &mut String) -> Result<()> {
    let json = cli.json;
    let config_path = config::path(cli.config.as_deref());
    let env_token = std::env::var("PORTCULLIS_TOKEN").ok();
    match cli.command {
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "portcullis", &mut buf);
            out.push_str(&String::from_utf8_lossy(&buf));
            Ok(())
        }
        Command::Login(a) => login(
            cli.server.as_deref(),
            env_token.as_deref(),
            a.token_stdin,
            &config_path?,
            json,
            out,
        ),
        Command::Logout => {
            let p = config_path?;
            let had = config::remove(&p)?;
            emit(out, json, &json!({"removed": had, "config": p}), |_| {
                if had {
                    format!("forgot the server and token ({})\n", p.display())
                } else {
                    "not logged in\n".to_owned()
                }
            });
            Ok(())
        }
        command => {
            let stored = config::load(&config_path?)?;
            let (server, admin_token) =
                config::resolve(cli.server.as_deref(), env_token.as_deref(), stored.as_ref())?;
            let c = Client::new(server, admin_token);
            match command {
                Command::Apps(a) => apps(&c, a, json, out),
                Command::Users(u) => users(&c, u, json, out),
                Command::Audit(a) => {
                    let l = users_audit::audit(&c, &a)?;
                    listing_out(out, json, &l, users_audit::AUDIT_COLUMNS, "audit");
                    Ok(())
                }
                Command::Token(t) => app_token(&c, &t, json, out),
                Command::Export(e) => backup::export(&c, &e.out, json, out),
                Command::Import(i) => backup::import(&c, &i.file, i.dry_run, json, out),
                Command::Completions { .. } | Command::Login(_) | Command::Logout => Ok(()),
            }
        }
    }
}

fn login(
    server: Option<&str>,
    env_token: Option<&str>,
    stdin: bool,
    path: &Path,
    json: bool,
    out: &mut String,
) -> Result<()> {
    let stored = config::load(path).ok().flatten();
    let server = match (server, &stored) {
        (Some(s), _) => config::check_server(s)?,
        (None, Some(c)) => config::check_server(&c.server)?,
        (None, None) => {
            return Err(Error::usage(
                "which server? pass --server https://… (or set PORTCULLIS_SERVER)",
            ))
        }
    };
    let token = match env_token.filter(|t| !t.is_empty()) {
        Some(t) => t.to_owned(),
        None if stdin || !std::io::stdin().is_terminal() => {
            let mut s = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut s)
                .map_err(|e| Error::usage(format!("cannot read the token from stdin: {e}")))?;
            s
        }
        None => rpassword::prompt_password(format!("Admin token for {server}: "))
            .map_err(|e| Error::usage(format!("cannot read the token: {e}")))?,
    };
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(Error::usage("the token is empty"));
    }
    if token.chars().any(|c| c.is_control() || c == ' ') {
        return Err(Error::usage(
            "the token has spaces or control characters; paste it alone",
        ));
    }
    // Checked before it is stored: a wrong token or server is said now, not at the next command.
    let c = Client::new(server.clone(), Some(token.clone()));
    c.admin(
        "GET",
        &["admin", "apps"],
        &[("limit", Some("1".into()))],
        Body::None,
    )?;
    config::save(
        path,
        &config::Config {
            server: server.clone(),
            token,
        },
    )?;
    emit(out, json, &json!({"server": server, "config": path}), |_| {
        format!("logged in to {server} (saved to {})\n", path.display())
    });
    Ok(())
}

/// The admin API body for the fields given.
fn app_body(f: AppFields) -> Result<Map<String, Value>> {
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    macro_rules! opt {
        ($($field:ident => $key:literal),*) => { $(if let Some(v) = f.$field { put($key, json!(v)); })* };
    }
    opt!(name => "name", description => "description", homepage => "homepage", image_uri => "image_uri",
        admin_email => "admin_email", admin_phone => "admin_phone", trusted => "trusted", approved => "approved",
        introspection => "introspection", token_lifetime => "token_lifetime", auth_method => "token_endpoint_auth_method");
    macro_rules! list {
        ($($field:ident => $key:literal),*) => { $(if !f.$field.is_empty() { put($key, json!(f.$field)); })* };
    }
    list!(redirect_uris => "redirect_uris", post_logout_redirect_uris => "post_logout_redirect_uris",
        grant_types => "grant_types", scopes => "scopes", default_scopes => "default_scopes");
    for s in f.set {
        let (k, v) = s
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| Error::usage(format!("--set takes FIELD=VALUE, not {s:?}")))?;
        let v = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_owned()));
        put(k, v);
    }
    Ok(m)
}

/// A public key file as the admin API takes it: a JWK object (a `.json` file or JSON text),
/// else the PEM text.
fn public_key_from(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, "read the public key", e))?;
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(&text) {
        return Ok(v);
    }
    if !text.contains("-----BEGIN") {
        return Err(Error::File(format!(
            "{} is neither a PEM public key nor a JWK",
            path.display()
        )));
    }
    if text.contains("PRIVATE KEY") {
        return Err(Error::File(format!(
            "{} is a private key: give the public key (openssl pkey -in KEY -pubout)",
            path.display()
        )));
    }
    Ok(Value::String(text))
}

/// A key pair made here: the private half written to `out` (new file, 0600) before anything is
/// sent, so a key the server registers is never lost. Returns the public PEM.
fn new_key_file(out: &Path, bits: usize) -> Result<String> {
    // Refuse an existing file before spending a key generation.
    if out.exists() {
        return Err(Error::File(format!(
            "{} exists; not overwriting it (choose another --out)",
            out.display()
        )));
    }
    let (private, public) = assertion::generate(bits)?;
    let mut f = files::create_private(out).map_err(|e| Error::file(out, "create", e))?;
    f.write_all(private.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| {
            let _ = std::fs::remove_file(out);
            Error::file(out, "write", e)
        })?;
    Ok(public)
}

fn apps(c: &Client, cmd: AppsCmd, json: bool, out: &mut String) -> Result<()> {
    let show = |v: &Value| output::fields(v, APP_FIRST);
    match cmd {
        AppsCmd::Create(CreateArgs {
            fields,
            owner,
            public_key,
            key_out,
        }) => {
            let mut body = app_body(fields)?;
            if let Some(o) = owner {
                body.insert("owner".into(), o.into());
            }
            if let Some(p) = &public_key {
                body.insert("public_key".into(), public_key_from(p)?);
            }
            if let Some(p) = &key_out {
                body.insert("public_key".into(), new_key_file(p, 2048)?.into());
            }
            let created = c.admin("POST", &["admin", "apps"], &[], Body::Json(&Value::Object(body)));
            if let (Err(_), Some(p)) = (&created, &key_out) {
                let _ = std::fs::remove_file(p);
            }
            let v = created?.unwrap_or(Value::Null);
            emit(out, json, &v, |v| {
                let mut s = format!("created app {}\n", output::cell(v.get("client_id")));
                if let Some(secret) = v.get("client_secret").and_then(Value::as_str) {
                    s.push_str(&format!(
                        "client_secret  {secret}\n  (shown once: store it now)\n"
                    ));
                }
                if let Some(p) = &key_out {
                    s.push_str(&format!("private key    {} (mode 0600)\n", p.display()));
                }
                s
            });
        }
        AppsCmd::List(l) => {
            let q = vec![
                ("name", l.name),
                ("owner", l.owner),
                ("status", l.status),
                ("grant_type", l.grant_type),
            ];
            let listing = listing::fetch(c, &["admin", "apps"], q, "apps", &l.page)?;
            listing_out(out, json, &listing, APP_COLUMNS, "apps list");
        }
        AppsCmd::Show { id } => {
            let v = c
                .admin("GET", &["admin", "apps", &id], &[], Body::None)?
                .unwrap_or(Value::Null);
            emit(out, json, &v, show);
        }
        AppsCmd::Edit { id, fields } => {
            let body = app_body(fields)?;
            if body.is_empty() {
                return Err(Error::usage(
                    "nothing to change: give a field (see `portcullis apps edit --help`)",
                ));
            }
            let v = c
                .admin(
                    "PATCH",
                    &["admin", "apps", &id],
                    &[],
                    Body::Json(&Value::Object(body)),
                )?
                .unwrap_or(Value::Null);
            emit(out, json, &v, show);
        }
        AppsCmd::Disable { id } => set_status(c, &id, "disabled", json, out)?,
        AppsCmd::Enable { id } => set_status(c, &id, "active", json, out)?,
        AppsCmd::Remove { id } => {
            c.admin("DELETE", &["admin", "apps", &id], &[], Body::None)?;
            emit(out, json, &json!({"client_id": id, "removed": true}), |_| {
                format!("removed app {id}\n")
            });
        }
        AppsCmd::Key(k) => key(c, k, json, out)?,
        AppsCmd::Secret(SecretCmd::Regenerate { id }) => {
            let v = c
                .admin("POST", &["admin", "apps", &id, "secret"], &[], Body::None)?
                .unwrap_or(Value::Null);
            emit(out, json, &v, |v| {
                format!(
                    "new client_secret for {id}: {}\n  (shown once; the old secret no longer works)\n",
                    output::cell(v.get("client_secret"))
                )
            });
        }
    }
    Ok(())
}

fn set_status(c: &Client, id: &str, status: &str, json: bool, out: &mut String) -> Result<()> {
    let v = c
        .admin(
            "PATCH",
            &["admin", "apps", id],
            &[],
            Body::Json(&json!({"status": status})),
        )?
        .unwrap_or(Value::Null);
    emit(out, json, &v, |v| {
        format!("app {id} is {}\n", output::cell(v.get("status")))
    });
    Ok(())
}

fn key(c: &Client, k: KeyCmd, json: bool, out: &mut String) -> Result<()> {
    match k {
        KeyCmd::Generate { id, out: file, bits } => {
            // The app must exist before a key is made for it.
            c.admin("GET", &["admin", "apps", &id], &[], Body::None)?;
            let public = new_key_file(&file, bits)?;
            let added = c.admin(
                "POST",
                &["admin", "apps", &id, "keys"],
                &[],
                Body::Json(&json!({"public_key": public})),
            );
            if added.is_err() {
                let _ = std::fs::remove_file(&file);
            }
            let v = added?.unwrap_or(Value::Null);
            emit(out, json, &v, |v| {
                format!(
                    "added key {} to {id}\nprivate key written to {} (mode 0600); it is not stored anywhere else\n",
                    output::cell(v.get("kid")),
                    file.display()
                )
            });
        }
        KeyCmd::Add { id, public_key } => {
            let pk = public_key_from(&public_key)?;
            let v = c
                .admin(
                    "POST",
                    &["admin", "apps", &id, "keys"],
                    &[],
                    Body::Json(&json!({"public_key": pk})),
                )?
                .unwrap_or(Value::Null);
            emit(out, json, &v, |v| {
                format!("added key {} to {id}\n", output::cell(v.get("kid")))
            });
        }
        KeyCmd::Remove { id, kid } => {
            c.admin("DELETE", &["admin", "apps", &id, "keys", &kid], &[], Body::None)?;
            emit(
                out,
                json,
                &json!({"client_id": id, "kid": kid, "removed": true}),
                |_| format!("removed key {kid} from {id}\n"),
            );
        }
        KeyCmd::List { id } => {
            let v = c
                .admin("GET", &["admin", "apps", &id, "keys"], &[], Body::None)?
                .unwrap_or(Value::Null);
            emit(out, json, &v, |v| {
                let keys = v
                    .get("keys")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                output::table(&keys, &[("KID", "kid"), ("KTY", "kty"), ("ALG", "alg")])
            });
        }
    }
    Ok(())
}

fn users(c: &Client, u: UsersCmd, json: bool, out: &mut String) -> Result<()> {
    match u {
        UsersCmd::List { page } => {
            let l = users_audit::list_users(c, &page)?;
            listing_out(out, json, &l, users_audit::USER_COLUMNS, "users list");
        }
        UsersCmd::Get { id } => {
            let v = users_audit::get_user(c, &id)?.unwrap_or(Value::Null);
            emit(out, json, &v, |v| {
                let mut lines = String::new();
                for k in ["id", "email", "name", "status", "email_verified", "created_at", "sessions"] {
                    lines.push_str(&format!("{k:<15} {}\n", output::cell(v.get(k))));
                }
                lines
            });
        }
        UsersCmd::Reset { id } => {
            let v = users_audit::reset_user(c, &id)?.unwrap_or_else(|| json!({"id": id}));
            emit(out, json, &v, |v| {
                format!(
                    "password reset for {id}: the old password no longer works, their sessions ended, a reset link was sent to {}\n",
                    output::cell(v.get("email"))
                )
            });
        }
        UsersCmd::Disable { id } => {
            let v =
                users_audit::disable_user(c, &id)?.unwrap_or_else(|| json!({"id": id, "status": "disabled"}));
            emit(out, json, &v, |_| format!("disabled {id}\n"));
        }
        UsersCmd::Remove { id } => {
            users_audit::remove_user(c, &id)?;
            emit(out, json, &json!({"id": id, "removed": true}), |_| {
                format!("removed {id}\n")
            });
        }
    }
    Ok(())
}

fn listing_out(out: &mut String, json: bool, l: &listing::Listing, cols: &[(&str, &str)], again: &str) {
    emit(out, json, &l.to_json(), |_| output::table(&l.items, cols));
    if let Some(n) = &l.next_cursor {
        note(
            json,
            &format!("more: portcullis {again} --cursor {n}   (or --all)"),
        );
    }
}

fn app_token(c: &Client, t: &args::TokenArgs, json: bool, out: &mut String) -> Result<()> {
    let key = assertion::read_private_key(&t.key)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let jwt = assertion::sign(&key, &t.app, t.kid.as_deref(), t.aud.as_deref(), now)?;
    if t.assertion_only {
        emit(out, json, &json!({"assertion": jwt}), |_| format!("{jwt}\n"));
        return Ok(());
    }
    let url = c.url(&["application", "token"], &[])?;
    let v = c
        .call("POST", &url, None, Body::Bearer(&jwt), Some("the app, its key or the assertion was refused: check --app, --key and that the key is registered (portcullis apps key list)"))?
        .unwrap_or(Value::Null);
    emit(out, json, &v, |v| {
        let expires = v
            .get("expires_in")
            .map(|e| format!(" (expires in {e} s)"))
            .unwrap_or_default();
        note(false, &format!("app token for {}{expires}", t.app));
        format!("{}\n", output::cell(v.get("access_token")))
    });
    Ok(())
}
