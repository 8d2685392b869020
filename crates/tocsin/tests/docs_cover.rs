//! The docs keep up with the binary: every CLI command and subcommand the binary lists is
//! described in docs/cli.md, and every config section the loader knows has its heading in
//! docs/configuration.md. Both lists come from the binary itself (its `--help` and the
//! loader's "expected one of" message), so a new command or section without docs fails here.

mod common;

use common::*;
use std::path::Path;

fn doc(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names under "Commands:" in a `--help` text, without `help`.
fn commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

fn help_of(args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("--help");
    let out = tocsin(&all);
    assert!(out.status.success(), "tocsin {all:?} failed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_cli_command_and_subcommand_is_in_the_cli_docs() {
    let cli = doc("cli.md");
    let top = commands(&help_of(&[]));
    assert!(top.len() >= 11, "the help lists too few commands: {top:?}");
    let mut missing = Vec::new();
    for command in &top {
        if !cli.contains(&format!("`tocsin {command}")) {
            missing.push(format!("tocsin {command}"));
        }
        for sub in commands(&help_of(&[command])) {
            // A subcommand is described under its own heading or as a row of its
            // command's table.
            let described = cli.contains(&format!("tocsin {command} {sub}"))
                || cli.contains(&format!("| `{sub}"));
            if !described {
                missing.push(format!("tocsin {command} {sub}"));
            }
        }
    }
    assert!(missing.is_empty(), "not in docs/cli.md: {missing:?}");
}

#[test]
fn every_config_section_has_its_heading_in_the_configuration_docs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("unknown.yaml");
    std::fs::write(&file, "no_such_section_here: 1\n").unwrap();
    let out = tocsin(&["check", "-c", file.to_str().unwrap()]);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let list = text
        .split("expected one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("no list of sections in: {text}"));
    let sections: Vec<&str> = list
        .lines()
        .next()
        .unwrap()
        .split(", ")
        .map(str::trim)
        .collect();
    assert!(sections.len() >= 15, "too few sections: {sections:?}");
    let docs = doc("configuration.md");
    let missing: Vec<_> = sections
        .iter()
        .filter(|s| !docs.contains(&format!("### `{s}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "no heading in docs/configuration.md: {missing:?}"
    );
}
