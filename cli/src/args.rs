//! The command line (clap derive): every command, its flags and their help.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  usage or configuration error (bad arguments, not logged in, http:// to a non-local host)
  2  the server refused (its error code and description are shown)
  3  network failure (cannot connect, DNS, TLS, timeout, an answer that is not JSON)
  4  local file error (key file unreadable, output file exists, config file unreadable)

Environment:
  PORTCULLIS_SERVER  server URL (overrides the stored one; like --server)
  PORTCULLIS_TOKEN   admin token (overrides the stored one)
  PORTCULLIS_CONFIG  config file (default: <config dir>/portcullis/config.json)";

/// The Portcullis operator's tool: manage apps, people and audit events over the admin API.
#[derive(Parser, Debug)]
#[command(name = "portcullis", version, after_help = EXIT_CODES, propagate_version = true)]
pub struct Cli {
    /// Server URL (https://…; http:// only for localhost).
    #[arg(long, global = true, env = "PORTCULLIS_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Config file holding the server and token.
    #[arg(long, global = true, env = "PORTCULLIS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Machine output: the server's JSON on stdout, errors as JSON on stderr.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Store the server URL and admin token (checked against the server first).
    Login(LoginArgs),
    /// Forget the stored server and token.
    Logout,
    /// Manage apps (OAuth clients).
    #[command(subcommand)]
    Apps(AppsCmd),
    /// Manage people (accounts).
    #[command(subcommand)]
    Users(UsersCmd),
    /// List audit events.
    Audit(AuditArgs),
    /// Back up this tenant (apps, people, operators, settings) to a new file (mode 0600).
    Export(ExportArgs),
    /// Restore a backup made by `export` (never overwrites what exists; can be run again).
    Import(ImportArgs),
    /// Sign an app assertion with the app's private key and get an app token (for testing).
    Token(TokenArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Read the token from standard input instead of prompting (also when stdin is not a
    /// terminal). PORTCULLIS_TOKEN is used when set.
    #[arg(long)]
    pub token_stdin: bool,
}

#[derive(Subcommand, Debug)]
pub enum AppsCmd {
    /// Create an app; prints its id, and its secret once.
    Create(CreateArgs),
    /// List apps, filtered and paged.
    List(ListArgs),
    /// Show one app.
    Show { id: String },
    /// Change an app's fields (only those given).
    Edit {
        id: String,
        #[command(flatten)]
        fields: AppFields,
    },
    /// Disable an app: its tokens stop working, nothing is deleted.
    Disable { id: String },
    /// Enable a disabled app again.
    Enable { id: String },
    /// Remove an app for good.
    Remove { id: String },
    /// An app's RSA keys (for app tokens and private_key_jwt).
    #[command(subcommand)]
    Key(KeyCmd),
    /// An app's client secret.
    #[command(subcommand)]
    Secret(SecretCmd),
}

#[derive(Args, Debug, Default)]
pub struct AppFields {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long)]
    pub homepage: Option<String>,
    #[arg(long, value_name = "URL")]
    pub image_uri: Option<String>,
    #[arg(long)]
    pub admin_email: Option<String>,
    #[arg(long)]
    pub admin_phone: Option<String>,
    /// A redirect URI (repeat for several; replaces the list).
    #[arg(long = "redirect-uri", value_name = "URI")]
    pub redirect_uris: Vec<String>,
    /// A post-logout redirect URI (repeat; replaces the list).
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    pub post_logout_redirect_uris: Vec<String>,
    /// A grant type (repeat; replaces the list): authorization_code, refresh_token,
    /// client_credentials, urn:ietf:params:oauth:grant-type:jwt-bearer, …
    #[arg(long = "grant-type", value_name = "GRANT")]
    pub grant_types: Vec<String>,
    /// A scope the app may ask for (repeat; replaces the list).
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// A scope granted when the app asks for none (repeat; replaces the list).
    #[arg(long = "default-scope", value_name = "SCOPE")]
    pub default_scopes: Vec<String>,
    /// Trusted (first-party) app: no consent page, may use client_credentials.
    #[arg(long, value_name = "BOOL")]
    pub trusted: Option<bool>,
    /// Approved for machine grants (self-service apps).
    #[arg(long, value_name = "BOOL")]
    pub approved: Option<bool>,
    /// May call the introspection endpoint.
    #[arg(long, value_name = "BOOL")]
    pub introspection: Option<bool>,
    /// Access token lifetime in seconds.
    #[arg(long, value_name = "SECONDS")]
    pub token_lifetime: Option<u64>,
    /// Token endpoint authentication: client_secret_basic, client_secret_post,
    /// private_key_jwt or none.
    #[arg(long, value_name = "METHOD")]
    pub auth_method: Option<String>,
    /// Any other admin API field: FIELD=VALUE, the value read as JSON when it parses, else as
    /// a string (repeat).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    pub fields: AppFields,
    /// The owner the app counts against (default: operator).
    #[arg(long)]
    pub owner: Option<String>,
    /// Register this public key (PEM file, or a JWK JSON file).
    #[arg(long, value_name = "FILE", conflicts_with = "key_out")]
    pub public_key: Option<PathBuf>,
    /// Make an RSA key pair here, register its public half and write the private key to FILE
    /// (created with mode 0600; an existing file is never overwritten).
    #[arg(long, value_name = "FILE")]
    pub key_out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only apps whose name contains this (case-insensitive).
    #[arg(long)]
    pub name: Option<String>,
    /// Only apps of this owner.
    #[arg(long)]
    pub owner: Option<String>,
    /// Only apps with this status (active or disabled).
    #[arg(long)]
    pub status: Option<String>,
    /// Only apps allowed this grant type.
    #[arg(long)]
    pub grant_type: Option<String>,
    #[command(flatten)]
    pub page: Page,
}

#[derive(Args, Debug, Default)]
pub struct Page {
    /// At most this many a page (1 to 100).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub limit: Option<u32>,
    /// Start at this cursor (the `next` a previous page printed).
    #[arg(long, conflicts_with = "all")]
    pub cursor: Option<String>,
    /// Follow every page.
    #[arg(long)]
    pub all: bool,
}

#[derive(Subcommand, Debug)]
pub enum KeyCmd {
    /// Make an RSA key pair here, register the public key, write the private key to --out
    /// (mode 0600; never overwrites).
    Generate {
        id: String,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[arg(long, default_value_t = 2048)]
        bits: usize,
    },
    /// Register a public key (PEM or JWK JSON file).
    Add {
        id: String,
        #[arg(value_name = "FILE")]
        public_key: PathBuf,
    },
    /// Remove a key by its kid (its tokens stop working).
    Remove { id: String, kid: String },
    /// List an app's public keys.
    List { id: String },
}

#[derive(Subcommand, Debug)]
pub enum SecretCmd {
    /// A new client secret (the old one stops working); printed once.
    Regenerate { id: String },
}

#[derive(Subcommand, Debug)]
pub enum UsersCmd {
    /// List people, paged.
    List {
        #[command(flatten)]
        page: Page,
    },
    /// Show one person (email, name, status, verified, live sessions).
    Get { id: String },
    /// Force a password reset: the password stops working, their sessions and grants end, and
    /// a reset link is emailed to them.
    Reset { id: String },
    /// Disable a person: no log-in, tokens refused; nothing deleted.
    Disable { id: String },
    /// Delete a person and their grants.
    Remove { id: String },
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The file to write (must not exist): it holds password and secret hashes, keep it safe.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The export file.
    pub file: PathBuf,
    /// Check every record and report what would happen, changing nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only events about this app (client id).
    #[arg(long)]
    pub app: Option<String>,
    /// Only events about this person (user id).
    #[arg(long)]
    pub person: Option<String>,
    /// Only events of this type.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Only events at or after this time (Unix seconds or RFC 3339, passed on as given).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events before this time.
    #[arg(long)]
    pub until: Option<String>,
    #[command(flatten)]
    pub page: Page,
}

#[derive(Args, Debug)]
pub struct TokenArgs {
    /// The app (client id): the assertion's iss.
    #[arg(long)]
    pub app: String,
    /// The app's private key (PEM, PKCS#8 or PKCS#1).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
    /// Put this kid in the assertion's header (optional: the server tries the app's keys).
    #[arg(long)]
    pub kid: Option<String>,
    /// Put this aud in the assertion (optional; the issuer or the endpoint URL).
    #[arg(long)]
    pub aud: Option<String>,
    /// Print the signed assertion instead of exchanging it.
    #[arg(long)]
    pub assertion_only: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("portcullis").chain(args.iter().copied()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn commands_parse() {
        let c = parse(&[
            "apps", "list", "--name", "x", "--status", "active", "--limit", "5", "--json",
        ])
        .unwrap();
        assert!(c.json);
        match c.command {
            Command::Apps(AppsCmd::List(l)) => {
                assert_eq!(l.name.as_deref(), Some("x"));
                assert_eq!(l.page.limit, Some(5));
            }
            other => panic!("{other:?}"),
        }
        let c = parse(&[
            "--server",
            "https://a.example",
            "apps",
            "create",
            "--name",
            "N",
            "--scope",
            "a",
            "--scope",
            "b",
            "--trusted",
            "true",
        ])
        .unwrap();
        assert_eq!(c.server.as_deref(), Some("https://a.example"));
        match c.command {
            Command::Apps(AppsCmd::Create(a)) => {
                assert_eq!(a.fields.scopes, ["a", "b"]);
                assert_eq!(a.fields.trusted, Some(true));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&["apps", "key", "generate", "id1", "--out", "k.pem"])
                .unwrap()
                .command,
            Command::Apps(AppsCmd::Key(KeyCmd::Generate { bits: 2048, .. }))
        ));
        assert!(
            matches!(parse(&["audit", "--type", "app.created"]).unwrap().command, Command::Audit(a) if a.kind.as_deref() == Some("app.created"))
        );
        assert!(matches!(
            parse(&["completions", "zsh"]).unwrap().command,
            Command::Completions { .. }
        ));
    }

    #[test]
    fn bad_arguments_are_refused() {
        for bad in [
            &["apps", "list", "--limit", "0"][..],
            &["apps", "list", "--limit", "101"],
            &["apps", "list", "--cursor", "c", "--all"],
            &["apps", "show"],
            &["apps", "create", "--trusted", "maybe"],
            &["apps", "create", "--public-key", "a", "--key-out", "b"],
            &["token", "--app", "x"],
            &["completions", "cmd.exe"],
            &["frobnicate"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
