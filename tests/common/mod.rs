//! End-to-end harness: runs the built worker under `wrangler dev` (workerd, local KV and Durable
//! Objects) and talks to it over HTTP. Nothing here uses the server's own code: requests are made
//! with `ureq`, app assertions are signed and access tokens verified with `jsonwebtoken` (ring).
//!
//! The worker must be built first (`sh scripts/build.sh`). Servers are started by the project's
//! one launcher, `scripts/serve.sh` (also used by tests/*/run.sh and bench/run.sh): each runs
//! its own copy of `build/` under a copy of wrangler.toml without the `[build]` table, so
//! wrangler never rebuilds the worker, and neither edits to `src/` nor a rebuild of `build/`
//! reload a running test server; no `.dev.vars` of a developer's is read.
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

// One submodule per concern; every item is re-exported here, so `common::name` paths stay as
// they were.
mod flows;
mod http;
mod jwt;
mod server;
mod tenants;
mod util;

#[allow(unused_imports)] // not every test file uses the flows
pub use flows::*;
pub use http::*;
pub use jwt::*;
pub use server::*;
#[allow(unused_imports)] // only tests/tenancy.rs uses the tenants' hosts
pub use tenants::*;
pub use util::*;

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

// A bound, not a wait: a server is used as soon as it answers (~4 s on a quiet machine). The test
// command runs a few test binaries at once, and on a shared 2-core machine at load ~17 one
// start (with ORG_DOMAIN, tests/console.rs) took more than 60 s.
const READY_TIMEOUT: Duration = Duration::from_secs(180);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
