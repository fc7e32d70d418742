//! Finding ONNX Runtime's shared library without downloading anything: `--ort-library` /
//! `ORT_DYLIB_PATH` when given, else the `libonnxruntime.so` that PyPI's `onnxruntime` wheel ships,
//! found by asking the configured Python interpreter where the package lives.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The environment variable ONNX Runtime's Rust bindings use for the library's path.
pub const ENV_ORT_DYLIB_PATH: &str = "ORT_DYLIB_PATH";

/// The library to load: `explicit` if given, else the one in `python`'s `onnxruntime` package.
/// `Err` says everything that was tried.
pub fn find_library(explicit: Option<&Path>, python: &Path) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(format!("the ONNX Runtime library {} does not exist", path.display()))
        };
    }
    let output = Command::new(python)
        // Finding the package without importing it: importing onnxruntime loads numpy, about two seconds.
        .args([
            "-c",
            "import importlib.util as u; print(u.find_spec('onnxruntime').submodule_search_locations[0])",
        ])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| {
            format!(
                "no {ENV_ORT_DYLIB_PATH} is set, and `{}` could not be run: {e}",
                python.display()
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "no {ENV_ORT_DYLIB_PATH} is set, and `{}` has no `onnxruntime` package (pip install onnxruntime)",
            python.display()
        ));
    }
    let package = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    library_in(&package.join("capi")).ok_or_else(|| {
        format!(
            "the `onnxruntime` package at {} holds no libonnxruntime.so",
            package.display()
        )
    })
}

/// `libonnxruntime.so` or the newest `libonnxruntime.so.<version>` in `dir`.
fn library_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n == "libonnxruntime.so" || n.starts_with("libonnxruntime.so.") || n == "libonnxruntime.dylib"
            })
        })
        .collect();
    found.sort();
    found.pop()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_explicit_library_and_a_missing_python_are_explained() {
        let err =
            find_library(Some(Path::new("/nonexistent/libonnxruntime.so")), Path::new("python3")).expect_err("missing");
        assert!(err.contains("does not exist"), "{err}");
        let err = find_library(None, Path::new("/nonexistent/python")).expect_err("no python");
        assert!(err.contains("could not be run"), "{err}");
    }

    #[test]
    fn the_newest_versioned_library_is_chosen() {
        let dir = tempfile::tempdir().expect("dir");
        for name in [
            "libonnxruntime.so.1.9.0",
            "libonnxruntime_providers_shared.so",
            "README",
        ] {
            std::fs::write(dir.path().join(name), b"").expect("file");
        }
        assert_eq!(library_in(dir.path()), Some(dir.path().join("libonnxruntime.so.1.9.0")));
    }
}
