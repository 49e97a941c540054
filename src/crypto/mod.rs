//! Keys and JWTs: the server's signing keys (`keys`), app public keys (`app_keys`), the
//! compact JWS encoding both use (`jwt`), and RS256 (`rs256`) over our RSA arithmetic
//! (`rsa_kernel`).

pub mod app_keys;
pub mod cose;
pub mod jwt;
pub mod keys;
pub mod rs256;
pub mod rsa_kernel;
