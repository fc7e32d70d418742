//! Offline validation of the generated manifests with tests/deploy/validate.py: kubernetes-validate
//! (strict) for the core kinds, the KServe CRDs' schemas for the KServe kinds, and broken copies to show
//! that the validation does refuse. Needs `$EASYMLSERVE_TEST_VENV_K8S` (scripts/test builds it);
//! without it each test says it is skipped, or fails under nextest's `ci` profile.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{generated, scratch, skip};

/// The Kubernetes versions validated against: the first with `preStop.sleep` on by default (beta), the
/// first with it GA, and the newest the pinned kubernetes-validate knows.
const VERSIONS: [&str; 3] = ["1.30.0", "1.34.0", "1.37.0"];

fn python() -> Option<PathBuf> {
    match std::env::var_os("EASYMLSERVE_TEST_VENV_K8S") {
        Some(venv) => Some(PathBuf::from(venv).join("bin/python")),
        None => {
            skip("the manifests: EASYMLSERVE_TEST_VENV_K8S is not set; scripts/test creates it");
            None
        }
    }
}

/// Runs validate.py on `files`; returns whether it passed and what it printed.
fn validate(python: &Path, version: &str, files: &[PathBuf]) -> (bool, String) {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/deploy");
    let output = Command::new(python)
        .arg(here.join("validate.py"))
        .args(["--kubernetes-version", version, "--crds"])
        .arg(here.join("crds"))
        .args(files)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.is_empty(), "validate.py wrote to stderr: {stderr}");
    (output.status.success(), String::from_utf8(output.stdout).unwrap())
}

/// The generated manifests, written into a scratch directory under their committed names.
fn manifests(test: &str) -> Vec<(String, String)> {
    generated(test)
        .into_iter()
        .filter(|(path, _)| path.extension().is_some_and(|e| e == "yaml"))
        .map(|(path, text)| {
            let parent = path.parent().unwrap().file_name().unwrap().to_str().unwrap();
            (
                format!("{parent}-{}", path.file_name().unwrap().to_str().unwrap()),
                text,
            )
        })
        .collect()
}

fn write_all(dir: &Path, files: &[(String, String)]) -> Vec<PathBuf> {
    files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

#[test]
fn every_generated_manifest_passes_strict_validation() {
    let Some(python) = python() else { return };
    let files = manifests("valid");
    let dir = scratch("valid-files");
    let paths = write_all(&dir, &files);
    let resources: usize = files
        .iter()
        .map(|(_, text)| text.matches("\napiVersion: ").count())
        .sum();
    assert_eq!(resources, 10, "2 x 4 core resources and 2 KServe ones");
    for version in VERSIONS {
        let (passed, report) = validate(&python, version, &paths);
        assert!(passed, "Kubernetes {version}:\n{report}");
        assert_eq!(
            report.lines().filter(|l| l.starts_with("ok ")).count(),
            resources,
            "{report}"
        );
        for kind in [
            "Deployment",
            "Service",
            "HorizontalPodAutoscaler",
            "PodDisruptionBudget",
            "ServingRuntime",
            "InferenceService",
        ] {
            assert!(report.contains(&format!(" {kind}/")), "{kind} not validated:\n{report}");
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// One deliberate mistake: in which file, the text replaced, and what the report must then say.
struct Breakage {
    file: &'static str,
    from: &'static str,
    to: &'static str,
    error: &'static str,
}

const BREAKAGES: [Breakage; 7] = [
    Breakage {
        file: "kubernetes-digits.yaml",
        from: "terminationGracePeriodSeconds: 45",
        to: "terminationGracePeriodSecond: 45",
        error: "Deployment/digits: spec.template.spec: Additional properties are not allowed \
                ('terminationGracePeriodSecond' was unexpected)",
    },
    Breakage {
        file: "kubernetes-digits.yaml",
        from: "containerPort: 8080",
        to: "containerPort: '8080'",
        error: "Deployment/digits: spec.template.spec.containers.0.ports.0.containerPort: '8080' is not of type 'integer'",
    },
    Breakage {
        file: "kubernetes-digits.yaml",
        from: "  maxReplicas: 10",
        to: "  maxReplica: 10",
        error: "HorizontalPodAutoscaler/digits: spec: ",
    },
    Breakage {
        file: "kserve-digits.yaml",
        from: "  protocolVersions:",
        to: "  protocolVersion:",
        error: "ServingRuntime/digits-runtime: spec: Additional properties are not allowed ('protocolVersion' was unexpected)",
    },
    Breakage {
        file: "kserve-digits.yaml",
        from: "    minReplicas: 1",
        to: "    minReplicas: one",
        error: "InferenceService/digits: spec.predictor.minReplicas: 'one' is not of type 'integer'",
    },
    // The grace period where the ServingRuntime would carry it: its spec has no such field.
    Breakage {
        file: "kserve-digits.yaml",
        from: "  protocolVersions:",
        to: "  terminationGracePeriodSeconds: 45\n  protocolVersions:",
        error: "ServingRuntime/digits-runtime: spec: Additional properties are not allowed \
                ('terminationGracePeriodSeconds' was unexpected)",
    },
    Breakage {
        file: "kserve-digits.yaml",
        from: "    terminationGracePeriodSeconds: 45",
        to: "    terminationGracePeriodSeconds: '45'",
        error: "InferenceService/digits: spec.predictor.terminationGracePeriodSeconds: '45' is not of type 'integer'",
    },
];

#[test]
fn a_misspelt_field_or_a_string_for_a_number_is_refused_with_its_path() {
    let Some(python) = python() else { return };
    let files = manifests("broken");
    let dir = scratch("broken-files");
    let broken: Vec<(String, String)> = BREAKAGES
        .iter()
        .enumerate()
        .map(|(index, breakage)| {
            let (_, text) = files.iter().find(|(name, _)| name == breakage.file).unwrap();
            assert_eq!(
                text.matches(breakage.from).count(),
                1,
                "{:?} in {}",
                breakage.from,
                breakage.file
            );
            (
                format!("{index}-{}", breakage.file),
                text.replace(breakage.from, breakage.to),
            )
        })
        .collect();
    // One run for all (the CRDs take a while to load): each file must have exactly its own error.
    let paths = write_all(&dir, &broken);
    let (passed, report) = validate(&python, VERSIONS[0], &paths);
    assert!(!passed, "the broken manifests passed:\n{report}");
    for (breakage, path) in BREAKAGES.iter().zip(&paths) {
        let prefix = format!("error {} ", path.display());
        let errors: Vec<_> = report.lines().filter(|l| l.starts_with(&prefix)).collect();
        assert_eq!(errors.len(), 1, "{:?} -> {:?}:\n{report}", breakage.from, breakage.to);
        assert!(
            errors[0].contains(breakage.error),
            "expected {:?} in:\n{report}",
            breakage.error
        );
    }
    assert_eq!(
        report.lines().filter(|l| l.starts_with("error ")).count(),
        BREAKAGES.len(),
        "{report}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
