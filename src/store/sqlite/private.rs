//! The database file and its companions are private to their owner: created `0600` (a
//! folder made for them `0700`) whatever the umask, and a warning for an existing one that
//! group or others can read.

use std::io;
use std::path::{Path, PathBuf};

/// Creates `dir` and its missing parents, each `0700` (existing ones are left alone).
pub fn create_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        if dir.is_dir() {
            return Ok(());
        }
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Creates `path` empty with mode `0600` when it does not exist (an empty file is an
/// empty SQLite database). SQLite creates the `-wal`, `-shm` and journal files with the
/// database file's mode, so they are private too. The mode is set explicitly after the
/// create, since the umask could take bits away (never add them).
pub fn create_file(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(file) => file.set_permissions(std::fs::Permissions::from_mode(0o600)),
            // Another process created it first, or it was there already.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// The database file and its companions that exist as files, with their permission bits
/// (a folder given as the database is not one: opening it says so, and its mode is no
/// business of the data's).
fn files(path: &Path) -> Vec<(PathBuf, u32)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut out = Vec::new();
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = PathBuf::from(name);
            if let Ok(meta) = std::fs::metadata(&file)
                && meta.is_file()
            {
                out.push((file, meta.permissions().mode() & 0o777));
            }
        }
        out
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Vec::new()
    }
}

/// A warning when the database at `path` (or its `-wal`, `-shm`, journal) exists and is
/// readable by group or others; `None` when it is private or absent.
pub fn readable_warning(path: &Path) -> Option<String> {
    let open: Vec<(PathBuf, u32)> = files(path)
        .into_iter()
        .filter(|(_, mode)| mode & 0o044 != 0)
        .collect();
    if open.is_empty() {
        return None;
    }
    let listed: Vec<String> = open
        .iter()
        .map(|(f, mode)| format!("{} (mode {mode:03o})", f.display()))
        .collect();
    let names: Vec<String> = open.iter().map(|(f, _)| f.display().to_string()).collect();
    Some(format!(
        "the database holds patient data but is readable by group or others: {}; run \
         `chmod 600 {}`",
        listed.join(", "),
        names.join(" ")
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_private_and_warned_when_open() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        create_dir(&sub).unwrap();
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        let db = sub.join("x.db");
        create_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(readable_warning(&db), None);
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let w = readable_warning(&db).unwrap();
        assert!(w.contains("mode 644") && w.contains("chmod 600"), "{w}");
        // An existing file keeps its mode (the warning tells the operator).
        create_file(&db).unwrap();
        assert_eq!(mode(&db), 0o644);
    }
}
