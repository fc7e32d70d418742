//! Unit tests of the validator's own parts: draft detection, paths from JSON pointers, the error chosen
//! and its words. The keyword-by-keyword tests against real schemas are in `tests/validation/`.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use serde_json::{Value, json};

use super::*;

fn problem(schema: Value, instance: Value) -> (String, String) {
    let err = Validator::new(schema).unwrap().validate(&instance).unwrap_err();
    (err.path, err.message)
}

#[test]
fn keys_with_slashes_tildes_and_digits_keep_their_names() {
    let schema = json!({"properties": {"a/b": {"properties": {"~x": {"properties": {"0": {"type": "string"}}}}}}});
    let (path, message) = problem(schema, json!({"a/b": {"~x": {"0": 1}}}));
    assert_eq!(path, "a/b.~x.0");
    assert_eq!(message, "`a/b.~x.0` must be a string, got an integer");
}

#[test]
fn array_items_are_indexed() {
    let schema = json!({"items": {"items": {"type": "integer"}}});
    let (path, message) = problem(schema, json!([[1], [2, "x"]]));
    assert_eq!(path, "[1][1]");
    assert_eq!(message, "`[1][1]` must be an integer, got a string");
}

#[test]
fn the_body_itself_has_an_empty_path() {
    assert_eq!(
        problem(json!({"type": "object"}), json!([])),
        (
            String::new(),
            "the request body must be an object, got an array".to_owned()
        )
    );
}

#[test]
fn a_missing_field_comes_before_a_problem_inside_another() {
    let schema = json!({
        "type": "object",
        "properties": {"a": {"properties": {"b": {"type": "string"}}}, "z": {"type": "string"}},
        "required": ["a", "z"]
    });
    assert_eq!(
        problem(schema, json!({"a": {"b": 1}})),
        ("z".to_owned(), "`z` is required".to_owned())
    );
}

#[test]
fn the_type_comes_before_other_keywords_at_the_same_place() {
    let schema = json!({"type": "integer", "enum": [1, 2]});
    assert_eq!(
        problem(schema, json!("x")).1,
        "the request body must be an integer, got a string"
    );
}

#[test]
fn an_integral_float_is_an_integer() {
    let validator = Validator::new(json!({"type": "integer", "maximum": 5})).unwrap();
    validator.validate(&json!(3.0)).unwrap();
    assert!(validator.validate(&json!(3.5)).is_err());
}

#[test]
fn the_draft_comes_from_dollar_schema() {
    assert_eq!(draft_of(&json!({})), Draft::Draft202012);
    assert_eq!(
        draft_of(&json!({"$schema": "http://json-schema.org/draft-07/schema#"})),
        Draft::Draft7
    );
    assert_eq!(
        draft_of(&json!({"$schema": "https://json-schema.org/draft/2019-09/schema"})),
        Draft::Draft201909
    );
    assert_eq!(
        draft_of(&json!({"$schema": "https://example.com/my-dialect"})),
        Draft::Draft202012
    );
}

#[test]
fn formats_are_checked_in_draft_07_too() {
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "properties": {"id": {"type": "string", "format": "uuid"}, "at": {"type": "string", "format": "date"}}
    });
    let validator = Validator::new(schema).unwrap();
    validator
        .validate(&json!({"id": "123e4567-e89b-12d3-a456-426614174000", "at": "2024-02-29"}))
        .unwrap();
    assert_eq!(validator.validate(&json!({"id": "123e4567"})).unwrap_err().path, "id");
    assert_eq!(validator.validate(&json!({"at": "2023-02-29"})).unwrap_err().path, "at");
}

#[test]
fn unknown_formats_are_annotations() {
    // schemars writes `uint8`, `double` and the like; pydantic writes `binary` and `password`.
    let validator = Validator::new(json!({"type": "integer", "format": "uint8"})).unwrap();
    validator.validate(&json!(3)).unwrap();
}

#[test]
fn a_schema_that_does_not_compile_is_an_error_naming_the_problem() {
    let err = Validator::new(json!({"type": "strin"})).unwrap_err();
    assert!(err.to_string().contains("strin"), "{err}");
    let err = Validator::new(json!({"pattern": "(unclosed"})).unwrap_err();
    assert!(err.to_string().contains("(unclosed"), "{err}");
    let err = Validator::new(json!({"$ref": "#/$defs/Missing"})).unwrap_err();
    assert!(err.to_string().contains("Missing"), "{err}");
}

#[test]
fn remote_references_are_not_fetched() {
    let err = Validator::new(json!({"$ref": "https://example.com/schema.json"})).unwrap_err();
    assert!(err.to_string().contains("example.com"), "{err}");
}

#[test]
fn uuids_are_8_4_4_4_12_hex_digits() {
    assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
    assert!(is_uuid("123E4567-E89B-12D3-A456-426614174000"));
    assert!(!is_uuid("123e4567e89b12d3a456426614174000"));
    assert!(!is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
}

#[test]
fn clones_share_the_compiled_schema() {
    let validator = Validator::for_type::<u8>();
    let copy = validator.clone();
    assert!(Arc::ptr_eq(&validator.inner, &copy.inner));
}

#[test]
fn field_names_are_checked_by_property_names() {
    let schema = json!({"propertyNames": {"maxLength": 2}});
    assert_eq!(
        problem(schema, json!({"ab": 1, "abc": 2})),
        (
            "abc".to_owned(),
            "`abc` is not an allowed field name: it takes at most 2 characters, got 3".to_owned()
        )
    );
}

#[test]
fn of_alternatives_the_one_whose_type_fits_is_reported() {
    let schema = json!({"anyOf": [{"type": "string"}, {"type": "object", "properties": {"b": {"const": 1}}}]});
    assert_eq!(
        problem(schema, json!({"b": 2})),
        ("b".to_owned(), "`b` must be 1, got 2".to_owned())
    );
}

#[test]
fn of_tagged_alternatives_the_one_whose_tag_fits_is_reported() {
    let tagged = |tag: &str, field: &str| json!({"type": "object", "properties": {"t": {"const": tag}, field: {"minimum": 1}}, "required": ["t", field]});
    let schema = json!({"oneOf": [tagged("a", "x"), tagged("b", "y")]});
    assert_eq!(
        problem(schema, json!({"t": "b", "y": 0})),
        ("y".to_owned(), "`y` must be at least 1, got 0".to_owned())
    );
}

#[test]
fn alternatives_that_are_literals_are_listed() {
    let schema = json!({"anyOf": [{"const": "a"}, {"enum": ["b", "c"]}]});
    assert_eq!(
        problem(schema, json!("d")).1,
        "the request body must be one of \"a\", \"b\", \"c\", got \"d\""
    );
}

#[test]
fn items_equal_as_json_schema_counts_are_repeats() {
    let schema = json!({"properties": {"xs": {"uniqueItems": true}}});
    assert_eq!(
        problem(schema, json!({"xs": [1.5, 1, {"a": [1]}, 1.0]})).1,
        "`xs` must not repeat items: items 1 and 3 are equal"
    );
}

#[test]
fn not_says_what_is_forbidden() {
    assert_eq!(
        problem(json!({"not": {"type": "null"}}), json!(null)).1,
        "the request body must not be null"
    );
    assert_eq!(
        problem(json!({"not": {"enum": [1, 2]}}), json!(2)).1,
        "the request body must not be one of 1, 2"
    );
    assert_eq!(
        problem(json!({"not": {"minimum": 3}}), json!(4)).1,
        "the request body must not be a value that matches `{\"minimum\":3}`"
    );
}

#[test]
fn false_schemas_and_unevaluated_fields_are_refused_by_name() {
    let schema = json!({"properties": {"gone": false}});
    assert_eq!(
        problem(schema, json!({"gone": 1})),
        ("gone".to_owned(), "`gone` is not allowed".to_owned())
    );
    let schema = json!({"allOf": [{"properties": {"a": true}}], "unevaluatedProperties": false});
    assert_eq!(
        problem(schema, json!({"a": 1, "b": 2})),
        ("b".to_owned(), "`b` is not a known field".to_owned())
    );
}

#[test]
fn large_bodies_are_counted_no_further_than_needed() {
    assert!(!locate::is_large(&json!([1, 2, {"a": [3]}])));
    assert!(locate::is_large(&Value::Array(vec![json!(1); 5000])));
}

#[test]
fn a_large_body_of_bad_items_is_refused_at_the_first() {
    let schema = json!({"properties": {"xs": {"anyOf": [
        {"type": "array", "items": {"type": "integer", "maximum": 255}},
        {"type": "null"}
    ]}}});
    let body = json!({"xs": vec![300; 100_000]});
    assert_eq!(
        problem(schema, body),
        ("xs[0]".to_owned(), "`xs[0]` must be at most 255, got 300".to_owned())
    );
}

#[test]
fn a_large_body_is_narrowed_through_references_to_the_bad_part() {
    let schema = json!({
        "properties": {
            "big": {"items": {"type": "number"}},
            "points": {"items": {"$ref": "#/$defs/Point"}},
            "a b/c": {"type": "string"}
        },
        "required": ["big"],
        "$defs": {"Point": {"properties": {"lat": {"maximum": 90}}}}
    });
    let big = vec![1.5; 10_000];
    assert_eq!(
        problem(schema.clone(), json!({"big": big, "points": [{"lat": 1}, {"lat": 91}]})),
        (
            "points[1].lat".to_owned(),
            "`points[1].lat` must be at most 90, got 91".to_owned()
        )
    );
    assert_eq!(
        problem(schema.clone(), json!({"big": big, "a b/c": 1})),
        (
            "a b/c".to_owned(),
            "`a b/c` must be a string, got an integer".to_owned()
        )
    );
    assert_eq!(
        problem(schema, json!({"points": vec![json!({"lat": 1}); 10_000]})),
        ("big".to_owned(), "`big` is required".to_owned())
    );
}

#[test]
fn a_generated_schema_that_does_not_compile_refuses_every_request() {
    #[derive(schemars::JsonSchema)]
    #[expect(dead_code, reason = "only its schema is used")]
    struct Odd {
        #[schemars(regex(pattern = "(unclosed"))]
        code: String,
    }
    let validator = Validator::for_type::<Odd>();
    let err = validator.validate(&json!({"code": "x"})).unwrap_err();
    assert_eq!(err.path, "");
    assert!(
        err.message.starts_with("the request schema is not a valid JSON Schema") && err.message.contains("(unclosed"),
        "{err}"
    );
}

#[test]
fn validators_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + 'static>() {}
    shareable::<Validator>();
}
