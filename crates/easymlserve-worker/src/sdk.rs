//! The `easymlserve` Python package travels inside the binary: every `python/easymlserve/*.py` is
//! embedded at build time and written, when the server starts, to a private temporary directory that
//! the workers find first on `PYTHONPATH` (so they run the SDK this server speaks, whatever else is
//! installed). The directory is removed when the [`Sdk`] is dropped.

use std::io;
use std::path::Path;

/// Embeds each named file of `python/easymlserve/`.
macro_rules! sdk_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../python/easymlserve/", $name)))),*]
    };
}

/// The SDK's files: name and contents. The test below fails when a `.py` file is missing here.
pub const FILES: &[(&str, &str)] = sdk_files![
    "__init__.py",
    "_version.py",
    "compat.py",
    "context.py",
    "encoding.py",
    "errors.py",
    "framing.py",
    "loader.py",
    "original.py",
    "protocol.py",
    "registry.py",
    "runner.py",
    "service.py",
    "spec.py",
    "widget.py",
    "worker.py",
];

/// The package name: the directory the files go in.
const PACKAGE: &str = "easymlserve";

/// A fresh directory under the system's temporary directory that only this user may enter (0700),
/// removed (with what is in it) when dropped.
pub(crate) fn private_dir(prefix: &str) -> io::Result<tempfile::TempDir> {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .prefix(prefix)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
}

/// The extracted SDK, removed on drop.
#[derive(Debug)]
pub struct Sdk {
    dir: tempfile::TempDir,
}

impl Sdk {
    /// Writes the SDK into a fresh private (0700) temporary directory.
    pub fn extract() -> io::Result<Self> {
        let dir = private_dir("easymlserve-sdk-")?;
        let package = dir.path().join(PACKAGE);
        std::fs::create_dir(&package)?;
        for (name, contents) in FILES {
            std::fs::write(package.join(name), contents)?;
        }
        std::fs::write(package.join("py.typed"), "")?;
        Ok(Self { dir })
    }

    /// The directory to put on `PYTHONPATH` (it holds the `easymlserve` package).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn every_python_file_of_the_sdk_is_embedded() {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python/easymlserve");
        let mut on_disk: Vec<String> = std::fs::read_dir(&source)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".py"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(name, _)| (*name).to_owned()).collect();
        embedded.sort();
        assert_eq!(
            embedded, on_disk,
            "src/sdk.rs must embed exactly the .py files of python/easymlserve/"
        );
        let subdirs: Vec<_> = std::fs::read_dir(&source)
            .unwrap()
            .map(|entry| entry.unwrap())
            .filter(|entry| entry.file_type().unwrap().is_dir() && entry.file_name() != "__pycache__")
            .map(|entry| entry.file_name())
            .collect();
        assert!(subdirs.is_empty(), "sub-packages are not embedded: {subdirs:?}");
    }

    #[test]
    fn extracted_into_a_private_directory_that_is_removed_on_drop() {
        let sdk = Sdk::extract().unwrap();
        let root = sdk.path().to_owned();
        let mode = std::fs::metadata(&root).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        for (name, contents) in FILES {
            assert_eq!(
                &std::fs::read_to_string(root.join(PACKAGE).join(name)).unwrap(),
                contents
            );
        }
        drop(sdk);
        assert!(!root.exists());
    }
}
