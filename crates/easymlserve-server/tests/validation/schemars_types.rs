//! The keyword cases on a schema schemars derives from Rust types, the way a service author writes them
//! (`#[schemars(...)]` attributes, sets, maps, tagged enums); a good body also deserializes.

use std::collections::{BTreeMap, BTreeSet};

use easymlserve_server::{Validator, from_value};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::{Case, check_cases, keywords};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Kind {
    /// A person, who has no VAT number.
    Person,
    /// A company, which must give its VAT number.
    Company,
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Model {
    Lr,
    Svr,
}

#[derive(Deserialize, JsonSchema)]
#[expect(dead_code, reason = "only validated and deserialized")]
struct Address {
    #[schemars(length(min = 1))]
    city: String,
}

#[derive(Deserialize, JsonSchema)]
#[expect(dead_code, reason = "only validated and deserialized")]
struct Point {
    #[schemars(range(min = -90.0, max = 90.0))]
    lat: f64,
}

#[derive(Deserialize, JsonSchema)]
#[serde(tag = "shape", rename_all = "snake_case")]
#[expect(dead_code, reason = "only validated and deserialized")]
enum Shape {
    Circle {
        #[schemars(extend("exclusiveMinimum" = 0))]
        radius: f64,
    },
    Square {
        #[schemars(extend("exclusiveMinimum" = 0))]
        side: f64,
    },
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend(
    "if" = {"properties": {"kind": {"const": "company"}}, "required": ["kind"]},
    "then" = {"required": ["vat"]},
    "else" = {"properties": {"vat": {"type": "null"}}}
))]
#[expect(dead_code, reason = "only validated and deserialized")]
struct Order {
    #[schemars(regex(pattern = r"^[A-Z]{3}$"))]
    code: String,
    #[schemars(extend("format" = "date-time"))]
    at: String,
    #[schemars(extend("format" = "date"))]
    day: String,
    #[schemars(email)]
    email: String,
    #[schemars(url)]
    homepage: String,
    #[schemars(extend("format" = "uuid"))]
    id: String,
    tags: BTreeSet<String>,
    #[schemars(extend("multipleOf" = 0.5))]
    step: f64,
    #[schemars(range(min = 1, max = 10))]
    #[serde(default = "one")]
    count: u32,
    #[schemars(length(min = 1, max = 5))]
    name: String,
    #[schemars(extend("oneOf" = [{"multipleOf": 3}, {"multipleOf": 5}]))]
    pick: u32,
    #[schemars(extend("not" = {"const": "admin"}))]
    role: String,
    kind: Kind,
    #[serde(default)]
    vat: Option<String>,
    #[schemars(extend("minProperties" = 1, "maxProperties" = 3))]
    labels: BTreeMap<String, String>,
    #[schemars(extend("const" = 2))]
    version: u32,
    model: Model,
    address: Address,
    points: Vec<Point>,
    shape: Shape,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    limit: Option<u8>,
}

fn one() -> u32 {
    1
}

#[test]
fn every_keyword_of_a_derived_schema_is_enforced() {
    let validator = Validator::for_type::<Order>();
    let mut cases = keywords::cases();
    cases.push(Case {
        keyword: "type: string or null",
        good: json!({"note": null}),
        bad: json!({"note": 5}),
        path: "note",
        message: "`note` must be a string or null, got an integer",
    });
    check_cases("schemars", &validator, &keywords::base(), &cases);
}

#[test]
fn good_bodies_also_deserialize() {
    let validator = Validator::for_type::<Order>();
    for case in keywords::cases() {
        let body = crate::merged(&keywords::base(), &case.good);
        if let Err(e) = from_value::<Order>(&validator, body) {
            panic!("{}: {e}", case.keyword);
        }
    }
}

#[test]
fn the_schema_has_the_keywords_the_cases_rely_on() {
    // A schemars upgrade that stopped emitting one of these would make its case pass for nothing.
    let schema = Validator::for_type::<Order>().schema().to_string();
    for keyword in [
        "\"pattern\"",
        "\"format\":\"email\"",
        "\"format\":\"uri\"",
        "\"uniqueItems\":true",
        "\"$defs\"",
        "\"$ref\"",
        "\"oneOf\"",
        "\"const\":\"circle\"",
    ] {
        assert!(schema.contains(keyword), "no {keyword} in {schema}");
    }
}
