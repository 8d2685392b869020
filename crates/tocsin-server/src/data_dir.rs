//! The data directory holds password hashes, contacts, tokens and every alert: it is for
//! the server's user alone. Made with mode 0700; at each start, files and folders in it that
//! group or others could read (made by an older version, or copied in) are tightened to
//! owner-only, and the log says so. Files made later are 0600 through the umask `tocsin
//! serve` sets and the explicit modes where the server creates them.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Creates the directory (and missing parents) readable by its owner only.
pub fn create(dir: &Path) -> Result<(), String> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Creates the directory if needed and takes group and other bits off it and everything in
/// it; tells how many entries were changed.
pub fn prepare(dir: &Path) -> Result<usize, String> {
    create(dir)?;
    let tightened = tighten(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if tightened > 0 {
        tracing::warn!(
            data = %dir.display(),
            tightened,
            "files in the data directory were readable by group or others; made owner-only"
        );
    }
    Ok(tightened)
}

/// Links are left alone: what they point at is not the data directory's.
fn tighten(path: &Path) -> std::io::Result<usize> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Ok(0);
    }
    let mut changed = 0;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o7700))?;
        changed += 1;
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            changed += tighten(&entry?.path())?;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_open_data_directory_is_made_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir_all(data.join("log")).unwrap();
        for (p, m) in [(&data, 0o755), (&data.join("log"), 0o755)] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
        }
        let db = data.join("tocsin.db");
        let segment = data.join("log").join("00000000000000000001.log");
        for f in [&db, &segment] {
            std::fs::write(f, "x").unwrap();
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        assert_eq!(prepare(&data).unwrap(), 4);
        assert_eq!(
            [&data, &data.join("log"), &db, &segment].map(|p| mode(p)),
            [0o700, 0o700, 0o600, 0o600]
        );
        assert_eq!(prepare(&data).unwrap(), 0, "nothing left to change");
        let fresh = root.path().join("fresh").join("data");
        prepare(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);
    }
}
