//! Request bodies against a generated schema, from bytes to the typed request: the messages users see
//! for the keywords of a typical request, defaults, null, malformed JSON, integers written as `3.0`.
//! (Moved here from the contract crate with the validator.)

use easymlserve_core::example_from_schema;
use easymlserve_core::schemars::JsonSchema;
use easymlserve_server::{RequestError, Validator, deserialize, parse_request};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Model {
    /// Linear regression.
    Lr,
    /// Support vector regression.
    Svr,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
struct Point {
    #[schemars(range(min = -90.0, max = 90.0))]
    lat: f64,
}

#[derive(Debug, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
struct Request {
    #[schemars(length(min = 1, max = 5))]
    name: String,
    models: Vec<Model>,
    #[schemars(range(min = 1, max = 10))]
    #[serde(default = "one")]
    count: u32,
    points: Vec<Point>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    limit: Option<u8>,
}

fn one() -> u32 {
    1
}

fn check(value: serde_json::Value) -> Result<Request, (String, String)> {
    parse_request::<Request>(&Validator::for_type::<Request>(), value.to_string().as_bytes()).map_err(|e| match e {
        RequestError::Invalid(i) => (i.path, i.message),
        RequestError::Malformed(m) => ("<malformed>".to_owned(), m),
    })
}

fn base() -> serde_json::Value {
    json!({"name": "abc", "models": ["lr"], "points": [{"lat": 1.5}]})
}

fn with(key: &str, value: serde_json::Value) -> serde_json::Value {
    let mut v = base();
    v[key] = value;
    v
}

#[test]
fn a_valid_request_parses_with_defaults() {
    let request = check(base()).unwrap();
    assert_eq!(request.count, 1);
    assert_eq!(request.models, vec![Model::Lr]);
    assert_eq!(request.note, None);
}

#[test]
fn each_keyword_names_the_field() {
    let cases = [
        (
            with("name", json!("")),
            "name",
            "`name` needs at least 1 characters, got 0",
        ),
        (
            with("name", json!("abcdef")),
            "name",
            "`name` takes at most 5 characters, got 6",
        ),
        (
            with("models", json!(["lr", "rf"])),
            "models[1]",
            "`models[1]` must be one of \"lr\", \"svr\", got \"rf\"",
        ),
        (
            with("models", json!("lr")),
            "models",
            "`models` must be an array, got a string",
        ),
        (with("count", json!(0)), "count", "`count` must be at least 1, got 0"),
        (
            with("count", json!(2.5)),
            "count",
            "`count` must be an integer, got a number",
        ),
        (
            with("points", json!([{"lat": 1}, {"lat": 91}])),
            "points[1].lat",
            "`points[1].lat` must be at most 90, got 91",
        ),
        (
            with("points", json!([{}])),
            "points[0].lat",
            "`points[0].lat` is required",
        ),
        (
            with("note", json!(5)),
            "note",
            "`note` must be a string or null, got an integer",
        ),
        (
            with("limit", json!(300)),
            "limit",
            "`limit` must be at most 255, got 300",
        ),
        (with("extra", json!(true)), "extra", "`extra` is not a known field"),
    ];
    for (value, path, message) in cases {
        assert_eq!(
            check(value.clone()),
            Err((path.to_owned(), message.to_owned())),
            "for {value}"
        );
    }
}

#[test]
fn null_is_accepted_for_optional_fields() {
    let request = check(with("note", serde_json::Value::Null)).unwrap();
    assert_eq!(request.note, None);
}

#[test]
fn malformed_json_is_told_apart_from_invalid_json() {
    let err = parse_request::<Request>(&Validator::for_type::<Request>(), b"{\"name\": ").unwrap_err();
    assert!(matches!(err, RequestError::Malformed(_)), "{err:?}");
    assert!(err.field().is_none());
}

#[test]
fn the_generated_example_is_valid() {
    let validator = Validator::for_type::<Request>();
    let example = example_from_schema(validator.schema(), validator.schema());
    validator.validate(&example).unwrap();
    assert_eq!(example["count"], 1);
    assert_eq!(example["models"], json!(["lr"]));
}

#[test]
fn raw_json_services_accept_anything() {
    let validator = Validator::for_type::<serde_json::Value>();
    for value in [json!(null), json!([1, 2]), json!({"any": {"thing": true}})] {
        validator.validate(&value).unwrap();
    }
}

#[test]
fn reference_cycles_do_not_hang() {
    // A schema that is only a reference to itself constrains nothing: it compiles and accepts any value.
    let validator = Validator::new(json!({"$ref": "#"})).unwrap();
    validator.validate(&json!(1)).unwrap();
    // A recursive type is fine, and checked to any depth.
    #[derive(Deserialize, JsonSchema)]
    #[expect(dead_code, reason = "only validated")]
    struct Tree {
        #[schemars(range(max = 9))]
        value: u8,
        children: Vec<Tree>,
    }
    let validator = Validator::for_type::<Tree>();
    let deep = json!({"value": 1, "children": [{"value": 2, "children": [{"value": 10, "children": []}]}]});
    let err = validator.validate(&deep).unwrap_err();
    assert_eq!(err.path, "children[0].children[0].value");
    assert_eq!(err.message, "`children[0].children[0].value` must be at most 9, got 10");
}

#[test]
fn integers_written_with_a_decimal_point_are_integers() {
    // JSON Schema calls 3.0 an integer; the request matches the published schema, so it is accepted.
    let request = check(with("count", json!(3.0))).unwrap();
    assert_eq!(request.count, 3);
    let request = check(with("limit", json!(7e0))).unwrap();
    assert_eq!(request.limit, Some(7));
    // A real fraction is still refused, by the schema, with the field named.
    let (path, message) = check(with("count", json!(2.5))).unwrap_err();
    assert_eq!(path, "count", "{message}");
}

#[test]
fn integers_beyond_their_type_are_refused_by_the_schema() {
    // `limit` is a u8: the published schema says so with maximum 255, and the validator refuses 256.
    let schema = Validator::for_type::<Request>().schema().clone();
    let limit = &schema["properties"]["limit"];
    assert!(limit.to_string().contains("\"maximum\":255"), "{limit}");
    let (path, message) = check(with("limit", json!(256))).unwrap_err();
    assert_eq!(path, "limit", "{message}");
    assert!(message.contains("255"), "{message}");
}

#[test]
fn deserialize_alone_names_the_field_and_retries_integral_floats() {
    #[derive(Debug, Deserialize, PartialEq)]
    struct Counted {
        count: u32,
    }
    assert_eq!(deserialize::<Counted>(json!({"count": 3.0})), Ok(Counted { count: 3 }));
    let err = deserialize::<Counted>(json!({"count": "x"})).unwrap_err();
    assert_eq!(err.field(), Some("count"), "{err}");
    let err = deserialize::<Counted>(json!([])).unwrap_err();
    assert_eq!(err.field(), None, "{err}");
    assert!(err.to_string().starts_with("the request body is invalid"), "{err}");
}
