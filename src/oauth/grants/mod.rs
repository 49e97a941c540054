//! One file per grant type. Each takes the parsed parameters and returns the token response.

pub mod client_credentials;
pub mod jwt_bearer;
