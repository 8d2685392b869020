//! The engine sees its store only through `tocsin_store::engine`'s traits (issue 18): no
//! source file of it names a database driver or a backend module, and its dependencies hold
//! none (its tests may look into the SQLite file; they are not the engine).

use std::path::Path;

const FORBIDDEN: [&str; 4] = [
    "rusqlite",
    "postgres::",
    "tocsin_store::sqlite",
    "tocsin_store::postgres",
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_engine_names_no_database() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    assert!(files.len() > 10, "the engine's sources were not found");
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for word in FORBIDDEN {
            assert!(!text.contains(word), "{} names {word}", file.display());
        }
    }
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let dependencies = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .unwrap();
    for word in ["rusqlite", "postgres"] {
        assert!(!dependencies.contains(word), "the engine depends on {word}");
    }
}
