//! The keyword cases on the schemas pydantic v1 and v2 write for the models of
//! `fixtures/pydantic_models.py` (v1 uses `definitions`, v2 `$defs`), and a check that the committed
//! fixtures are still what the pinned pydantic versions print.

use std::path::{Path, PathBuf};
use std::process::Command;

use easymlserve_server::Validator;
use serde_json::{Value, json};

use crate::{Case, check_cases, keywords};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validation/fixtures")
}

fn fixture(name: &str) -> String {
    let path = fixtures().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator(name: &str) -> Validator {
    let schema: Value = serde_json::from_str(&fixture(name)).unwrap();
    Validator::new(schema).unwrap()
}

/// Pydantic writes `Optional[str]` as a plain string (v1) or as `anyOf` string or null (v2); either
/// way the message names the string.
fn note_case() -> Case {
    Case {
        keyword: "type of an optional field",
        good: json!({"note": "hi"}),
        bad: json!({"note": 5}),
        path: "note",
        message: "`note` must be a string, got an integer",
    }
}

#[test]
fn every_keyword_of_a_pydantic_v1_schema_is_enforced() {
    let validator = validator("pydantic_v1.json");
    assert!(validator.schema()["definitions"].is_object(), "v1 writes `definitions`");
    let mut cases = keywords::cases();
    cases.push(note_case());
    check_cases("pydantic v1", &validator, &keywords::base(), &cases);
}

#[test]
fn every_keyword_of_a_pydantic_v2_schema_is_enforced() {
    let validator = validator("pydantic_v2.json");
    assert!(validator.schema()["$defs"].is_object(), "v2 writes `$defs`");
    let mut cases = keywords::cases();
    cases.push(note_case());
    check_cases("pydantic v2", &validator, &keywords::base(), &cases);
}

/// Runs the generator with the interpreter of the virtualenv in `variable` and compares its output with
/// the committed fixture.
fn regenerated_fixture_matches(variable: &str, fixture_name: &str) {
    let Some(venv) = std::env::var_os(variable) else {
        eprintln!("skipped: {variable} is not set; scripts/test creates it");
        return;
    };
    let python = Path::new(&venv).join("bin/python");
    let output = Command::new(&python)
        .arg(fixtures().join("pydantic_models.py"))
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{} failed: {stderr}", python.display());
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(
        printed == fixture(fixture_name),
        "fixtures/{fixture_name} is not what {} prints; regenerate it with\n  {} \
         crates/easymlserve-server/tests/validation/fixtures/pydantic_models.py > \
         crates/easymlserve-server/tests/validation/fixtures/{fixture_name}\nit prints:\n{printed}",
        python.display(),
        python.display(),
    );
}

#[test]
fn the_pydantic_v1_fixture_is_what_pydantic_v1_writes() {
    regenerated_fixture_matches("EASYMLSERVE_TEST_VENV_PYDANTIC1", "pydantic_v1.json");
}

#[test]
fn the_pydantic_v2_fixture_is_what_pydantic_v2_writes() {
    regenerated_fixture_matches("EASYMLSERVE_TEST_VENV_PYDANTIC2", "pydantic_v2.json");
}
