//! `--model-dir` and `STORAGE_URI`: where `easymlserve serve` finds its model in a container. A
//! cluster mounts the model as a directory (KServe's storage initializer puts it in `/mnt/models`);
//! this module finds what to serve in it. It reads local paths only: it never downloads.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The variable KServe sets to the model's location; below `--model-dir` and its variable.
pub const ENV_STORAGE_URI: &str = "STORAGE_URI";

/// The file a directory's Python service is read from.
const SERVICE_FILE: &str = "service.py";

/// Most file names listed in an error about a directory's contents.
const LISTED: usize = 10;

/// What a model directory holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// Its one `.onnx` file, served with no code.
    Onnx(PathBuf),
    /// Its `service.py`, served in Python workers.
    Python(PathBuf),
}

/// What to serve from `location` (a directory, or a `file://` URL of one), which came from `source`
/// (`--model-dir` or `STORAGE_URI`, named in errors). A `service.py` wins over `.onnx` files, which it
/// may load itself; otherwise the directory must hold exactly one `.onnx` file.
pub fn resolve(location: &str, source: &str) -> Result<Found> {
    let dir = local_path(location, source)?;
    if !dir.is_dir() {
        bail!("`{source}` names `{}`, which is not a directory", dir.display());
    }
    let service = dir.join(SERVICE_FILE);
    if service.is_file() {
        return Ok(Found::Python(service));
    }
    let mut names = entries(&dir).with_context(|| format!("`{source}`: cannot read `{}`", dir.display()))?;
    names.sort();
    let onnx: Vec<&String> = names
        .iter()
        .filter(|name| easymlserve_onnx::is_onnx_file(Path::new(name)))
        .collect();
    match onnx.as_slice() {
        [one] => Ok(Found::Onnx(dir.join(one))),
        [] => bail!(
            "`{source}` names `{}`, which holds no `.onnx` file and no `{SERVICE_FILE}` ({})",
            dir.display(),
            listing(&names)
        ),
        several => bail!(
            "`{source}` names `{}`, which holds several `.onnx` files ({}): keep one there, or serve one \
             with `easymlserve serve FILE.onnx`",
            dir.display(),
            several.iter().map(|name| name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The local path of `location`: a plain path, or the path of a `file://` URL. Any other URL is
/// refused: its model would have to be downloaded first.
fn local_path(location: &str, source: &str) -> Result<PathBuf> {
    let location = location.trim();
    if location.is_empty() {
        bail!("`{source}` is empty: give the directory that holds the model");
    }
    let Some((scheme, rest)) = location.split_once("://") else {
        return Ok(PathBuf::from(location));
    };
    if scheme.eq_ignore_ascii_case("file") {
        // `file:///abs/path`, or `file://localhost/abs/path`.
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        if !path.starts_with('/') {
            bail!("`{source}` is `{location}`: a file URL needs an absolute path, as in `file:///mnt/models`");
        }
        return Ok(PathBuf::from(path));
    }
    bail!(
        "`{source}` is `{location}`, a remote location: easymlserve does not download models. Put the model \
         in a local directory first (on KServe a storage initializer mounts it at /mnt/models; elsewhere an \
         init container or a volume) and give that directory, as in `--model-dir /mnt/models`"
    )
}

/// The names of the entries of `dir`.
fn entries(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        names.push(entry?.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

/// `found: a, b, c` (at most [`LISTED`] names, then how many more), or `it is empty`.
fn listing<S: AsRef<str>>(names: &[S]) -> String {
    if names.is_empty() {
        return "it is empty".to_owned();
    }
    let shown: Vec<&str> = names.iter().take(LISTED).map(AsRef::as_ref).collect();
    let more = names.len().saturating_sub(LISTED);
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!("found: {}{more}", shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_locations_are_taken() {
        assert_eq!(
            local_path("/mnt/models", "--model-dir").ok(),
            Some(PathBuf::from("/mnt/models"))
        );
        assert_eq!(
            local_path("file:///mnt/models", "STORAGE_URI").ok(),
            Some(PathBuf::from("/mnt/models"))
        );
        assert_eq!(
            local_path("file://localhost/mnt/models", "STORAGE_URI").ok(),
            Some(PathBuf::from("/mnt/models"))
        );
        for remote in [
            "s3://bucket/model",
            "gs://bucket/m",
            "https://example.org/m",
            "pvc://claim/m",
        ] {
            let err = local_path(remote, "STORAGE_URI").expect_err(remote).to_string();
            assert!(
                err.contains("`STORAGE_URI`") && err.contains("does not download"),
                "{err}"
            );
        }
        assert!(local_path("file://relative/path", "--model-dir").is_err());
        assert!(local_path("  ", "--model-dir").is_err());
    }

    #[test]
    fn long_listings_are_cut() {
        let names: Vec<String> = (0..12).map(|i| format!("f{i}")).collect();
        assert_eq!(listing(&names[..2]), "found: f0, f1");
        assert!(listing(&names).ends_with("f9 and 2 more"), "{}", listing(&names));
        assert_eq!(listing::<&str>(&[]), "it is empty");
    }
}
