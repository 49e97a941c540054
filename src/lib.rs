//! Portcullis: an OAuth 2 authorization server for Cloudflare Workers.
//!
//! Ports and adapters: everything except `worker/` is a core of plain Rust that awaits the
//! capability traits of [`platform`] (clock, randomness, Durable Objects, the app directory in
//! KV, the origin, the audit log), tested natively with `cargo test` over the in-memory
//! platform. `worker/` is the only code that touches workers-rs types and is compiled for
//! wasm32 only. The layers and what each may import are in docs/DESIGN.md.

// Nothing on input may panic: no indexing, slicing, unwrap or expect in non-test code
// (checked in every wasm build: scripts/build.sh runs clippy-driver as the rustc wrapper).
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::string_slice,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

pub mod accounts;
pub mod admin;
pub mod apps;
pub mod config;
pub mod crypto;
pub mod error;
pub mod gateway;
pub mod http;
pub mod model;
pub mod oauth;
pub mod pages;
pub mod routes;
pub mod objects;
pub mod platform;
pub mod prepared;
pub mod rules;
pub mod tenancy;
pub mod util;

#[cfg(target_arch = "wasm32")]
mod worker;
