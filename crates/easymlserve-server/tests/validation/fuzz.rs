//! Property-based fuzzing of JSON request bodies (moved here from the contract crate with the
//! validator): whatever the bytes, the answer is a typed request or an error with a message, never a
//! panic, and valid JSON is never called malformed. `PROPTEST_CASES` raises the case count for the long
//! run.

use easymlserve_core::schemars::JsonSchema;
use easymlserve_server::{RequestError, Validator, parse_request};
use proptest::prelude::*;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
#[expect(dead_code, reason = "only parsed")]
struct Request {
    #[schemars(length(min = 1, max = 5))]
    name: String,
    #[schemars(range(min = 0, max = 10))]
    repeat: u32,
    #[serde(default)]
    values: Vec<f64>,
    #[serde(default)]
    nested: Option<Box<Request>>,
}

/// Arbitrary JSON values, up to a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[a-z]{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("name".to_owned()),
                    Just("repeat".to_owned()),
                    Just("values".to_owned()),
                    Just("nested".to_owned()),
                    "[a-z]{1,5}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn json_bodies_parse_or_are_refused_with_a_field(value in json_value()) {
        let validator = Validator::for_type::<Request>();
        let body = serde_json::to_vec(&value).unwrap();
        match parse_request::<Request>(&validator, &body) {
            Ok(_) => {}
            Err(RequestError::Malformed(_)) => prop_assert!(false, "valid JSON called malformed: {}", value),
            Err(err) => prop_assert!(!err.to_string().is_empty(), "an error without a message"),
        }
    }

    #[test]
    fn raw_bytes_as_json_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let validator = Validator::for_type::<Request>();
        let _ = parse_request::<Request>(&validator, &bytes);
    }
}

#[test]
fn deeply_nested_json_is_refused_not_overflowing_the_stack() {
    let validator = Validator::for_type::<Request>();
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse_request::<Request>(&validator, body.as_bytes()).is_err());
}
