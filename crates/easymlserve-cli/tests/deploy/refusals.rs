//! Every `deploy` flag refuses a bad value by name, with a non-zero exit and nothing written: a manifest
//! the cluster would reject, or a pod that could never work, never leaves the command.

use super::{easymlserve, scratch};

const K8S: [&str; 8] = [
    "deploy",
    "kubernetes",
    "--name",
    "demo",
    "--image",
    "example/demo:1",
    "--model-dir",
    "/models",
];
const KSERVE: [&str; 8] = [
    "deploy",
    "kserve",
    "--name",
    "demo",
    "--image",
    "example/demo:1",
    "--storage-uri",
    "s3://bucket/demo",
];
const DOCKER: [&str; 4] = ["deploy", "docker", "--onnx", "models/demo.onnx"];

/// `base` with `flag value` set (replacing the base's own value of `flag`, if it has one).
fn with<S: AsRef<str>>(base: &[S], flag: &str, value: &str) -> Vec<String> {
    let mut args: Vec<String> = base.iter().map(|s| s.as_ref().to_owned()).collect();
    match args.iter().position(|a| a == flag) {
        Some(at) => args[at + 1] = value.to_owned(),
        None => args.extend([flag.to_owned(), value.to_owned()]),
    }
    args
}

/// Asserts that `args` fail and that the error names `flag`.
fn refused(args: &[String], flag: &str) {
    let strs: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = easymlserve(&strs);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{args:?} was accepted");
    assert!(output.stdout.is_empty(), "{args:?} printed a manifest");
    assert!(
        stderr.contains(flag),
        "{args:?}: the error does not name {flag}: {stderr}"
    );
}

#[test]
fn the_bases_are_accepted() {
    for base in [&K8S[..], &KSERVE[..], &DOCKER[..]] {
        let output = easymlserve(base);
        assert!(
            output.status.success(),
            "{base:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn every_kubernetes_flag_refuses_a_bad_value_by_name() {
    let cases: &[(&str, &[&str])] = &[
        (
            "--name",
            &["", "Demo", "-demo", "demo-", "1demo", "de_mo", &"a".repeat(64)],
        ),
        ("--image", &["", "example/demo :1", "-demo"]),
        ("--model-dir", &["models", ""]),
        ("--python", &["service.py", "-x"]),
        ("--replicas", &["0", "-1", "two"]),
        ("--max-replicas", &["1", "x"]),
        ("--target-cpu-percent", &["0", "70%"]),
        ("--port", &["0", "65536", "http"]),
        ("--pre-stop-secs", &["0", "-5"]),
        ("--job-store", &["postgres://db", "redis://", ""]),
        ("--cpu", &["0", "1.5m", "one", "-1", "3"]),
        ("--cpu-limit", &["500m", "x"]),
        ("--memory", &["0Gi", "1GB", "lots", ""]),
        ("--startup-timeout-secs", &["1", "-1"]),
        ("--shutdown-delay-secs", &["-1", "5s"]),
        ("--shutdown-timeout-secs", &["0", "1.5"]),
    ];
    for (flag, values) in cases {
        for value in *values {
            // `--cpu 3` is above the default `--cpu-limit` 2, so the error names both.
            let args = with(&K8S, flag, value);
            let args = if *flag == "--max-replicas" {
                with(&args, "--replicas", "2")
            } else {
                args
            };
            refused(&args, flag);
        }
    }
    // A second model form, or none, is refused naming them.
    refused(&with(&K8S, "--binary", "load-forecasting"), "--binary");
    refused(
        &K8S[..6].iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "--model-dir",
    );
    refused(&with(&K8S[..6], "--binary", "load forecasting"), "--binary");
}

#[test]
fn every_kserve_flag_refuses_a_bad_value_by_name() {
    let cases: &[(&str, &[&str])] = &[
        ("--name", &["Demo", "", "9demo"]),
        ("--image", &["", "a b"]),
        (
            "--storage-uri",
            &["", "/mnt/models", "ftp://x", "s3://", "s3://bucket/a b"],
        ),
        ("--format", &["pytorch"]),
        ("--replicas", &["-1", "x"]),
        ("--max-replicas", &["0", "x"]),
        ("--cpu", &["0"]),
        ("--cpu-limit", &["100m"]),
        ("--memory", &["1GB"]),
        ("--startup-timeout-secs", &["0"]),
        ("--shutdown-delay-secs", &["-1"]),
        ("--shutdown-timeout-secs", &["0"]),
        ("--pre-stop-secs", &["0", "-5"]),
    ];
    for (flag, values) in cases {
        for value in *values {
            refused(&with(&KSERVE, flag, value), flag);
        }
    }
    refused(
        &with(&with(&KSERVE, "--replicas", "3"), "--max-replicas", "2"),
        "--max-replicas",
    );
}

#[test]
fn every_docker_flag_refuses_a_bad_value_by_name() {
    let cases: &[(&str, &[&str])] = &[
        (
            "--onnx",
            &["/abs/model.onnx", "../model.onnx", "model.pt", "a b.onnx", "m\".onnx"],
        ),
        ("--rust-image", &["", "rust 1.95", "-rust"]),
        ("--runtime-image", &["debian\"slim"]),
    ];
    for (flag, values) in cases {
        for value in *values {
            refused(&with(&DOCKER, flag, value), flag);
        }
    }
    let example = |value: &str| with(&["deploy", "docker"], "--example", value);
    refused(&example("load forecasting"), "--example");
    refused(
        &with(&example("load-forecasting"), "--train-models", "models"),
        "--train-models",
    );
    refused(&with(&DOCKER, "--train-models", "/models"), "--train-models");
    refused(&with(&["deploy", "docker"], "--python", "../service"), "--python");
    refused(&with(&DOCKER, "--python", "service"), "--python");
    refused(&["deploy".to_string(), "docker".to_string()], "--example");
}

#[test]
fn an_out_that_is_a_file_is_refused_by_name() {
    let dir = scratch("out-file");
    let file = dir.join("taken");
    std::fs::write(&file, "x").unwrap();
    refused(&with(&K8S, "--out", file.to_str().unwrap()), "--out");
    std::fs::remove_dir_all(dir).unwrap();
}
