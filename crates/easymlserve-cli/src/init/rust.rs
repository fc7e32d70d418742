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

/// The facade in the checkout this binary was built from: the default dependency while it exists.
const BUILT_FROM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../easymlserve");

/// The project's repository, for a binary whose checkout is gone. The facade is not on crates.io.
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

/// The crate's files. Its `easymlserve` dependency is a path: `easymlserve_path`, else the checkout
/// this binary was built from; with neither, a git dependency on the repository.
pub(super) fn files(name: &str, easymlserve_path: Option<&Path>) -> Result<(Vec<File>, String)> {
    let built_from = Path::new(BUILT_FROM);
    let path = easymlserve_path.or_else(|| built_from.join("Cargo.toml").is_file().then_some(built_from));
    let dependency = match path {
        Some(path) => {
            let path = std::fs::canonicalize(path)
                .with_context(|| format!("cannot find the easymlserve crate at `{}`", path.display()))?;
            let path = path.to_str().context("the easymlserve path is not valid UTF-8")?;
            format!("{{ path = {} }}", toml_string(path))
        }
        None => format!("{{ git = {} }}", toml_string(REPOSITORY)),
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

/// `text` as a TOML basic string, escaping what it cannot hold as is.
fn toml_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}
