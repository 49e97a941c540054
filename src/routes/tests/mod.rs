//! Rule tables over the in-memory platform, driven only through `routes::handle` (the stable
//! HTTP surface). End-to-end tests keep what needs workerd.

mod registration;
mod support;
