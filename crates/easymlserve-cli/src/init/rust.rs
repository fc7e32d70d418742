//! The Rust template: a crate with a service (`src/lib.rs`), a binary serving it with the generated
//! GUI (`src/main.rs`), a test over real HTTP (`tests/http.rs`) and a README.

use std::path::Path;

use anyhow::{Context, Result};

use super::{File, fill};

const CARGO_TOML: &str = include_str!("../../templates/rust/Cargo.toml");
const LIB_RS: &str = include_str!("../../templates/rust/src/lib.rs");
const MAIN_RS: &str = include_str!("../../templates/rust/src/main.rs");
const TEST_RS: &str = include_str!("../../templates/rust/tests/http.rs");
const README: &str = include_str!("../../templates/rust/README.md");

/// The published facade this template depends on by default.
const EASYMLSERVE_VERSION: &str = "0.1";

/// The crate's files; `easymlserve_path` makes its `easymlserve` dependency a path dependency.
pub(super) fn files(name: &str, easymlserve_path: Option<&Path>) -> Result<(Vec<File>, String)> {
    let dependency = match easymlserve_path {
        Some(path) => {
            let path = std::fs::canonicalize(path)
                .with_context(|| format!("cannot find the easymlserve crate at `{}`", path.display()))?;
            let path = path.to_str().context("the easymlserve path is not valid UTF-8")?;
            // A TOML basic string: escape what it cannot hold as is.
            format!("{{ path = \"{}\" }}", path.replace('\\', "\\\\").replace('"', "\\\""))
        }
        None => format!("\"{EASYMLSERVE_VERSION}\""),
    };
    let krate = name.replace('-', "_");
    let values = [
        ("name", name),
        ("crate", krate.as_str()),
        ("easymlserve", dependency.as_str()),
    ];
    let files = vec![
        File::text("Cargo.toml", fill(CARGO_TOML, &values)),
        File::text("src/lib.rs", fill(LIB_RS, &values)),
        File::text("src/main.rs", fill(MAIN_RS, &values)),
        File::text("tests/http.rs", fill(TEST_RS, &values)),
        File::text("README.md", fill(README, &values)),
        File::text(".gitignore", "/target\n".to_owned()),
    ];
    let next = format!("  cd {name}\n  cargo test\n  cargo run    # then open http://127.0.0.1:8000/ui/");
    Ok((files, next))
}
