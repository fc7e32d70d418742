//! Request validation as a binary of its own, so it builds without the rest of the server's tests:
//! every keyword against schemas from schemars, pydantic v1 and pydantic v2, the messages users see,
//! and fuzzing of request bodies.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod fuzz;
mod keywords;
mod pydantic;
mod requests;
mod schemars_types;

use easymlserve_server::{Invalid, Validator};
use serde_json::Value;

/// One keyword, checked on one field: `good` passes, `bad` is refused with `path` and `message`.
/// Both are merged into a valid body, field by field.
struct Case {
    keyword: &'static str,
    good: Value,
    bad: Value,
    path: &'static str,
    message: &'static str,
}

/// `base` with the fields of `patch` set (a shallow merge: a patched object replaces the whole field).
fn merged(base: &Value, patch: &Value) -> Value {
    let mut value = base.clone();
    if let (Some(fields), Some(patch)) = (value.as_object_mut(), patch.as_object()) {
        for (key, field) in patch {
            fields.insert(key.clone(), field.clone());
        }
    }
    value
}

/// Runs every case on `validator`, reporting all the cases that went wrong at once.
fn check_cases(shape: &str, validator: &Validator, base: &Value, cases: &[Case]) {
    validator
        .validate(base)
        .unwrap_or_else(|e| panic!("{shape}: the base body is refused: {e}"));
    let mut wrong = Vec::new();
    for case in cases {
        if let Err(e) = validator.validate(&merged(base, &case.good)) {
            wrong.push(format!("{}: good value {} refused: {e}", case.keyword, case.good));
        }
        match validator.validate(&merged(base, &case.bad)) {
            Ok(()) => wrong.push(format!("{}: bad value {} accepted", case.keyword, case.bad)),
            Err(Invalid { path, message }) if path == case.path && message == case.message => {}
            Err(Invalid { path, message }) => wrong.push(format!(
                "{}: for {}\n      expected {:?} at {:?}\n      got      {message:?} at {path:?}",
                case.keyword, case.bad, case.message, case.path
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{shape}: {} of {} cases went wrong:\n  {}",
        wrong.len(),
        cases.len(),
        wrong.join("\n  ")
    );
}
