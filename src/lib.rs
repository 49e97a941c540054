//! Portcullis: an OAuth 2 authorization server for Cloudflare Workers.
//!
//! Everything except `worker/` is a sans-IO core: plain Rust over the [`store::Platform`]
//! trait (storage, clock, randomness, keys), tested natively with `cargo test`.
//! `worker/` is the only code that touches workers-rs types and is compiled for wasm32 only.

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
pub mod rules;
pub mod util;

#[cfg(target_arch = "wasm32")]
mod worker;
