//! Keys and JWTs: the server's signing keys (`keys`), app public keys (`app_keys`), and the
//! compact JWS encoding both use (`jwt`).

pub mod app_keys;
pub mod jwt;
pub mod keys;
