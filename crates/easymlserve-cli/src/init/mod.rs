//! `easymlserve init NAME [--python | --onnx FILE]`: writes a new project that builds, passes its own
//! test and serves a generated GUI out of the box. One file per template (`rust`, `python`, `onnx`);
//! the templates themselves are files under `templates/`, embedded in the binary with `include_str!`.

mod onnx;
mod python;
mod rust;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::ArgGroup;

/// `easymlserve init`: what to write, and where.
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("template").args(["python", "onnx"])))]
pub struct InitCommand {
    /// The project's name: a new (or empty) directory of that name is written, and the Rust crate or
    /// the service is named after it. Letters, digits, `-` and `_`, starting with a letter.
    pub name: String,
    /// A Python service (`service.py`, pydantic request and response) instead of a Rust crate.
    #[arg(long)]
    pub python: bool,
    /// An ONNX file to serve with no code: copied into `models/`, with `serve.sh` and a README.
    #[arg(long, value_name = "FILE.onnx")]
    pub onnx: Option<PathBuf>,
    /// The Rust template's `easymlserve` dependency as a path to a checkout's `crates/easymlserve`.
    /// Default: the checkout this binary was built from, when it is still there (a `cargo install
    /// --path crates/easymlserve-cli`), else a git dependency on the project's repository.
    #[arg(long, env = "EASYMLSERVE_INIT_PATH", value_name = "PATH")]
    pub easymlserve_path: Option<PathBuf>,
}

/// One file a template writes: its path in the project, its content, and whether it is a script.
struct File {
    path: String,
    content: Vec<u8>,
    executable: bool,
}

impl File {
    fn text(path: &str, content: String) -> Self {
        Self::bytes(path, content.into_bytes())
    }

    fn bytes(path: &str, content: Vec<u8>) -> Self {
        Self {
            path: path.to_owned(),
            content,
            executable: false,
        }
    }

    fn executable(self) -> Self {
        Self {
            executable: true,
            ..self
        }
    }
}

impl InitCommand {
    /// Writes the project and returns what to say to the user.
    pub fn run(self) -> Result<String> {
        check_name(&self.name)?;
        let dir = PathBuf::from(&self.name);
        let (files, next) = if let Some(model) = &self.onnx {
            onnx::files(&self.name, model)?
        } else if self.python {
            python::files(&self.name)
        } else {
            rust::files(&self.name, self.easymlserve_path.as_deref())?
        };
        write_project(&dir, &files)?;
        Ok(format!("wrote {}/ ({} files). Next:\n{next}", self.name, files.len()))
    }
}

/// Refuses names that would not make a valid crate or package, naming the problem.
fn check_name(name: &str) -> Result<()> {
    let Some(first) = name.chars().next() else {
        bail!("the project name is empty");
    };
    if !first.is_ascii_alphabetic() {
        bail!("the project name `{name}` must start with an ASCII letter, not `{first}`");
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        bail!("the project name `{name}` may hold only ASCII letters, digits, `-` and `_`, not `{bad}`");
    }
    if name.len() > 64 {
        bail!("the project name `{name}` is longer than 64 characters");
    }
    let lowered = name.to_ascii_lowercase().replace('-', "_");
    if RESERVED.contains(&lowered.as_str()) {
        bail!("the project name `{name}` is a Rust keyword or a name Cargo reserves; choose another");
    }
    Ok(())
}

/// Keywords and names Cargo refuses for a package (`cargo new` says the same).
const RESERVED: &[&str] = &[
    "abstract",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "test",
    "build",
    "deps",
    "examples",
    "incremental",
    "easymlserve",
];

/// Creates `dir` (refusing one that exists and is not empty) and writes `files` into it.
fn write_project(dir: &Path, files: &[File]) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                bail!(
                    "`{}` already exists and is not empty; choose another name or empty it",
                    dir.display()
                );
            }
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotADirectory => {
            bail!("`{}` already exists and is a file", dir.display());
        }
        Err(err) => return Err(err).with_context(|| format!("cannot read `{}`", dir.display())),
    }
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        std::fs::write(&path, &file.content).with_context(|| format!("cannot write `{}`", path.display()))?;
        #[cfg(unix)]
        if file.executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("cannot make `{}` executable", path.display()))?;
        }
    }
    Ok(())
}

/// Fills the `{{key}}` placeholders of a template.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |text, (key, value)| {
        text.replace(&format!("{{{{{key}}}}}"), value)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_naming_the_problem() {
        for good in ["iris", "my-model", "model_2", "A1"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for (bad, says) in [
            ("", "empty"),
            ("2fast", "start with an ASCII letter, not `2`"),
            ("my model", "not ` `"),
            ("../up", "start with an ASCII letter"),
            ("a/b", "not `/`"),
            ("test", "keyword"),
            ("self", "keyword"),
        ] {
            let err = check_name(bad).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(fill("a {{x}} b {{y}} {{x}}", &[("x", "1"), ("y", "2")]), "a 1 b 2 1");
    }
}
