//! Files the command writes: whole or not at all.
//!
//! A key, a signature or a command's output is written to a temporary file
//! beside its path and renamed over it once complete, so that an interrupted
//! command (a full disk, Ctrl-C) leaves the old file or none, never half of one.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

/// Whether a file already at the path may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    Replace,
    /// Fail instead: a secret key, or a file named by a plugin.
    Keep,
}

/// Who may read the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readers {
    /// As the umask says, as a plain `>` redirection would.
    Usual,
    /// The owner alone (a secret key).
    Owner,
}

/// Writes `content` to `path` whole (see the module docs).
pub(crate) fn write_whole(
    path: &Path,
    content: &[u8],
    existing: Existing,
    readers: Readers,
) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".crossdesk-").suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = match readers {
            Readers::Usual => 0o666,
            Readers::Owner => 0o600,
        };
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let mut partial = builder
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    partial
        .write_all(content)
        .and_then(|()| partial.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    match existing {
        Existing::Replace => partial.persist(path).map(drop),
        Existing::Keep => partial.persist_noclobber(path).map(drop),
    }
    // The error holds the temporary file: dropped here, it is deleted.
    .map_err(|refused| refused.error)
    .with_context(|| match existing {
        Existing::Keep if path.exists() => {
            format!("{} exists already: it is not replaced", path.display())
        }
        _ => format!("cannot write {}", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_file_is_not_replaced_and_nothing_partial_is_left() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("key");
        write_whole(&path, b"first", Existing::Keep, Readers::Owner).expect("written");
        let refused =
            write_whole(&path, b"second", Existing::Keep, Readers::Owner).expect_err("exists");
        assert!(
            format!("{refused:#}").contains("exists already"),
            "{refused:#}"
        );
        assert_eq!(std::fs::read(&path).expect("read"), b"first");
        write_whole(&path, b"third", Existing::Replace, Readers::Usual).expect("replaced");
        assert_eq!(std::fs::read(&path).expect("read"), b"third");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["key"], "no temporary file stays behind");
    }

    #[cfg(unix)]
    #[test]
    fn an_owners_file_is_readable_by_the_owner_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("secret");
        write_whole(&path, b"k", Existing::Keep, Readers::Owner).expect("written");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
