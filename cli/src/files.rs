//! Local files the CLI writes: created new (never over an existing file) with mode 0600.

use std::fs::File;
use std::path::Path;

/// Creates `path` for writing, failing if it exists; readable by its owner only.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}
