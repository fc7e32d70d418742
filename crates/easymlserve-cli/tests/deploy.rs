//! `easymlserve deploy` as a user runs it: the committed files under deploy/ (and the root Dockerfile)
//! are what the commands in deploy/README.md write and deploy/ holds no other file but the README,
//! every `--flag` the containers get exists in the binary they run, the manifests pass offline
//! validation (tests/deploy/validate.py), and every bad flag is refused by name.
//!
//! `UPDATE_DEPLOY=1 cargo nextest run -p easymlserve-cli -E 'binary(deploy)'` rewrites the committed files.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

#[path = "deploy/manifests.rs"]
mod manifests;
#[path = "deploy/probes.rs"]
mod probes;
#[path = "deploy/refusals.rs"]
mod refusals;
#[path = "deploy/validation.rs"]
mod validation;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");

/// The repository root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn easymlserve(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

/// A fresh, empty directory under the system's temp dir.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("easymlserve-deploy-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `easymlserve deploy ...` lines of deploy/README.md's sh block, each split into its arguments
/// (the commands use no quotes).
fn readme_commands() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(repo().join("deploy/README.md")).unwrap();
    let commands: Vec<Vec<String>> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("easymlserve deploy "))
        .map(|rest| {
            std::iter::once("deploy".to_string())
                .chain(rest.split_whitespace().map(String::from))
                .collect()
        })
        .collect();
    assert!(
        commands.len() >= 5,
        "deploy/README.md lists {} commands",
        commands.len()
    );
    commands
}

/// Runs `command` with its `--out DIR` moved under `into`; returns the repository's DIR and the one
/// the files went to.
fn run_into(command: &[String], into: &Path) -> (PathBuf, PathBuf) {
    let at = command.iter().position(|arg| arg == "--out").unwrap();
    let committed = repo().join(&command[at + 1]);
    let written = into.join(&command[at + 1]);
    let mut args = command.to_vec();
    args[at + 1] = written.display().to_string();
    let output = Command::new(BIN).args(&args).output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (committed, written)
}

/// Every file the README's commands write: (where it is committed, what the command wrote now).
/// `test` names the scratch directory, so that tests running at once do not share one.
fn generated(test: &str) -> Vec<(PathBuf, String)> {
    let into = scratch(test);
    let mut files = Vec::new();
    for (index, command) in readme_commands().iter().enumerate() {
        let own = into.join(index.to_string());
        std::fs::create_dir_all(&own).unwrap();
        let (committed, written) = run_into(command, &own);
        let mut names: Vec<_> = std::fs::read_dir(&written)
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        names.sort();
        for name in names {
            let text = std::fs::read_to_string(written.join(&name)).unwrap();
            files.push((committed.join(&name), text));
        }
    }
    std::fs::remove_dir_all(&into).unwrap();
    files
}

#[test]
fn committed_deploy_files_are_what_the_readme_commands_write() {
    let files = generated("committed");
    let names: Vec<_> = files
        .iter()
        .map(|(path, _)| path.strip_prefix(repo()).unwrap().to_owned())
        .collect();
    for expected in [
        "deploy/kubernetes/load-forecasting.yaml",
        "deploy/kubernetes/digits.yaml",
        "deploy/kserve/digits.yaml",
        "deploy/docker/Dockerfile",
        "Dockerfile",
        ".dockerignore",
    ] {
        assert!(
            names.contains(&PathBuf::from(expected)),
            "{expected} not among {names:?}"
        );
    }
    let update = std::env::var_os("UPDATE_DEPLOY").is_some();
    let mut stale = Vec::new();
    for (path, text) in &files {
        if update {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        if std::fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "these committed files differ from what deploy/README.md's commands write: {stale:?}; \
         regenerate with UPDATE_DEPLOY=1 and review the diff"
    );
    // A file no command writes (an example whose command was dropped or renamed) would be shown to
    // users as generated while nothing keeps it right.
    let deploy = repo().join("deploy");
    let extra: Vec<_> = files_under(&deploy)
        .into_iter()
        .filter(|path| *path != deploy.join("README.md") && !files.iter().any(|(written, _)| written == path))
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        extra.is_empty(),
        "no command of deploy/README.md writes these files under deploy/: {extra:?}; \
         delete them or add the command that writes them"
    );
}

/// Every file under `dir` and its subdirectories, dotfiles included.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Each YAML document of a manifest file, as JSON.
fn documents(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .map(|doc| doc.trim_start_matches("---\n"))
        .filter(|doc| {
            doc.lines()
                .any(|line| !line.starts_with('#') && !line.trim().is_empty())
        })
        .map(|doc| serde_norway::from_str(doc).unwrap())
        .collect()
}

/// The command and args of every container in a manifest file.
fn containers(text: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for doc in documents(text) {
        let list = match doc["kind"].as_str().unwrap() {
            "Deployment" => &doc["spec"]["template"]["spec"]["containers"],
            "ServingRuntime" => &doc["spec"]["containers"],
            _ => continue,
        };
        for container in list.as_array().unwrap() {
            let strings = |v: &Value| -> Vec<String> {
                v.as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap().to_owned())
                    .collect()
            };
            found.push((strings(&container["command"])[0].clone(), strings(&container["args"])));
        }
    }
    found
}

/// The `--flags` among `args` that `help` does not list.
fn unknown_flags(args: &[String], help: &str) -> Vec<String> {
    args.iter()
        .filter(|arg| arg.starts_with("--"))
        .map(|arg| arg.split('=').next().unwrap().to_owned())
        .filter(|flag| {
            !help
                .match_indices(flag.as_str())
                .any(|(at, _)| !help[at + flag.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '-'))
        })
        .collect()
}

/// Why a check cannot run here, as the test's verdict: skipped (said on stderr) outside CI, but under
/// nextest's `ci` profile an error, since there the setup provides everything and a skip would hide a
/// broken one.
fn skipped(reason: &str, profile: Option<&str>) -> Result<String, String> {
    if profile == Some("ci") {
        Err(format!(
            "cannot check {reason}; under NEXTEST_PROFILE=ci this fails instead of skipping"
        ))
    } else {
        Ok(format!("skipped {reason}"))
    }
}

/// Says that `reason` stops a check, or fails the test under the `ci` profile (see `skipped`).
fn skip(reason: &str) {
    match skipped(reason, std::env::var("NEXTEST_PROFILE").ok().as_deref()) {
        Ok(message) => eprintln!("{message}"),
        Err(message) => panic!("{message}"),
    }
}

#[test]
fn a_missing_tool_skips_a_check_except_under_the_ci_profile() {
    assert!(skipped("x", Some("ci")).unwrap_err().contains("cannot check x"));
    assert_eq!(skipped("x", Some("default")).unwrap(), "skipped x");
    assert_eq!(skipped("x", None).unwrap(), "skipped x");
}

/// `<program> serve --help`, or None (with a message) when the program is a workspace binary that is
/// not built: the test does not build it (a release build of an example takes minutes).
fn serve_help(program: &str) -> Option<String> {
    let path = if program == "easymlserve" {
        PathBuf::from(BIN)
    } else {
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo().join("target"), PathBuf::from);
        let path = target.join("debug").join(program);
        if !path.is_file() {
            skip(&format!(
                "the flags of `{program}`: {} is not built (cargo build -p {program})",
                path.display()
            ));
            return None;
        }
        path
    };
    let output = Command::new(&path).args(["serve", "--help"]).output().unwrap();
    assert!(output.status.success(), "{program} serve --help failed");
    Some(String::from_utf8(output.stdout).unwrap())
}

#[test]
fn every_flag_the_containers_get_exists_in_the_binary_they_run() {
    let mut checked = 0;
    for (path, text) in generated("flags") {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let runs = if name.ends_with(".yaml") {
            containers(&text)
        } else if name == "Dockerfile" {
            let line = |prefix: &str| -> Vec<String> {
                let json = text.lines().find_map(|l| l.strip_prefix(prefix)).unwrap();
                serde_json::from_str(json).unwrap()
            };
            vec![(line("ENTRYPOINT ")[0].clone(), line("CMD "))]
        } else {
            continue;
        };
        for (program, args) in runs {
            assert_eq!(args[0], "serve", "{}: {args:?}", path.display());
            let Some(help) = serve_help(&program) else { continue };
            let unknown = unknown_flags(&args, &help);
            assert!(
                unknown.is_empty(),
                "{}: `{program} serve` has no {unknown:?} (args {args:?})",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} containers checked");
}

#[test]
fn unknown_flags_finds_a_flag_the_help_lacks() {
    let help = "  --model-dir <DIR>\n  --log-format <FORMAT>\n  --port-range\n";
    let args: Vec<String> = [
        "serve",
        "--model-dir",
        "/m",
        "--log-format=json",
        "--port",
        "8080",
        "--log",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(unknown_flags(&args, help), ["--port", "--log"]);
}
