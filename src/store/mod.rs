//! Storage: the synchronous key-value interface a Durable Object offers its logic (`kv`), the
//! commands each Durable Object executes atomically (`shard`), and the async [`Platform`] the
//! protocol core runs on (`platform`), with in-memory implementations for native tests.

pub mod kv;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod platform;
pub mod shard;

pub use platform::Platform;
