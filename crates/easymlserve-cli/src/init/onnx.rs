//! The ONNX template: the model copied into `models/`, a `serve.sh` holding the exact serve command,
//! and a README. The CLI takes no configuration file: the command line is the whole configuration.

use std::path::Path;

use anyhow::{Context, Result, bail};

use super::{File, fill};

const SERVE_SH: &str = include_str!("../../templates/onnx/serve.sh");
const README: &str = include_str!("../../templates/onnx/README.md");

/// The project's files, the model's bytes among them.
pub(super) fn files(name: &str, model: &Path) -> Result<(Vec<File>, String)> {
    if !model.is_file() {
        bail!("`--onnx`: cannot find the ONNX model `{}`", model.display());
    }
    if !easymlserve_onnx::is_onnx_file(model) {
        bail!("`--onnx`: `{}` is not an `.onnx` file", model.display());
    }
    let file_name = model
        .file_name()
        .and_then(|n| n.to_str())
        .context("`--onnx`: the model's file name is not valid UTF-8")?;
    if file_name.contains(|c: char| c.is_whitespace() || "'\"$`\\".contains(c)) {
        bail!("`--onnx`: rename `{file_name}` without spaces or quotes first: serve.sh names it unquoted");
    }
    let stem = file_name.strip_suffix(".onnx").unwrap_or(file_name);
    let bytes = std::fs::read(model).with_context(|| format!("cannot read `{}`", model.display()))?;
    let values = [("name", name), ("model", file_name), ("stem", stem)];
    let files = vec![
        File::bytes(&format!("models/{file_name}"), bytes),
        File::text("serve.sh", fill(SERVE_SH, &values)).executable(),
        File::text("README.md", fill(README, &values)),
    ];
    let next = format!("  cd {name}\n  ./serve.sh    # then open http://127.0.0.1:8000/ui/");
    Ok((files, next))
}
