//! The repository stands alone: no tracked file but documentation refers to a folder
//! beside the checkout, so a fresh clone with nothing next to it builds and tests.

use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The tracked files (`git ls-files`), or every file under the root but `target/` and
/// `.git/` when git or the repository is not there (a source tarball).
fn tracked_files() -> Vec<PathBuf> {
    let listed = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(ROOT)
        .output()
        .ok()
        .filter(|o| o.status.success() && !o.stdout.is_empty());
    match listed {
        Some(out) => out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .collect(),
        None => {
            let mut files = Vec::new();
            walk(Path::new(ROOT), Path::new(""), &mut files);
            files
        }
    }
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let path = rel.join(&name);
        if rel.as_os_str().is_empty() && (name == "target" || name == ".git") {
            continue;
        }
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(root, &path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

#[test]
fn no_tracked_file_but_docs_refers_to_the_sibling_shared_folder() {
    let files = tracked_files();
    assert!(
        files.iter().any(|p| p == Path::new("Cargo.toml")),
        "the file list should include Cargo.toml: {} files",
        files.len()
    );
    // Split so this file does not match itself.
    let needles = [concat!("..", "/shared"), concat!("/work", "/shared")];
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .filter_map(|p| {
            let bytes = std::fs::read(Path::new(ROOT).join(p)).ok()?;
            let text = String::from_utf8_lossy(&bytes);
            needles
                .iter()
                .find(|n| text.contains(*n))
                .map(|n| format!("{} mentions {n}", p.display()))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "files outside the repository are read; copy what is needed into it:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_cliniko_fixtures_are_in_the_repository() {
    let dir = Path::new(ROOT).join("tests/fixtures/cliniko");
    let json = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .count();
    assert!(json >= 20, "{json} fixtures in {}", dir.display());
}
