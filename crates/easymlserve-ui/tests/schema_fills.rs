//! The `time_series_csv` override of the generated GUI and the request fields it fills: on the request
//! root and on a field, the filled fields get no widget of their own and one upload writes them all;
//! a missing, empty or malformed `fills`, a name that is no request field, and a field filled twice are
//! refused with the field's name when the GUI is built (issue 17 item 1, review F2), never a panic.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use easymlserve_ui::{DynUi, InputKind, InputValue, InputValues, SchemaUi, TimeSeries, UiError};
use serde_json::{Value, json};

const KEY: &str = "x-easymlserve-widget";

/// A forecasting-like request (`models`, `time`, `energy`) with `widget` on the root or on `at`.
fn request(at: Option<&str>, widget: Value) -> Value {
    let mut schema = json!({
        "type": "object",
        "properties": {
            "models": {"type": "array", "items": {"type": "string", "enum": ["red", "green"]}},
            "time": {"type": "array", "items": {"type": "string"}},
            "energy": {"type": "array", "items": {"type": ["number", "null"]}},
        },
        "required": ["models", "time", "energy"],
    });
    match at {
        None => schema[KEY] = widget,
        Some(field) => schema["properties"][field][KEY] = widget,
    }
    schema
}

fn ui(request: &Value) -> Result<SchemaUi, UiError> {
    SchemaUi::from_schemas("Forecast", "", request, &json!(true))
}

/// The inputs' names, sorted (the order of the fields is the schema map's).
fn names_of(ui: &SchemaUi) -> Vec<String> {
    let mut names: Vec<String> = ui.spec().inputs.into_iter().map(|i| i.name).collect();
    names.sort();
    names
}

fn series() -> TimeSeries {
    TimeSeries::from_csv(b"time,energy\n2024-01-01 00:00,5\n2024-01-01 01:00,6\n", "csv").unwrap()
}

#[test]
fn a_root_override_without_usable_fills_is_refused_with_the_extension_named() {
    let bad = [
        json!("time_series_csv"),
        json!({"widget": "time_series_csv"}),
        json!({"widget": "time_series_csv", "fills": []}),
        json!({"widget": "time_series_csv", "fills": [1, 2]}),
        json!({"widget": "time_series_csv", "fills": ["time", 2]}),
        json!({"widget": "time_series_csv", "fills": {"time": true}}),
    ];
    for widget in bad {
        let err = ui(&request(None, widget.clone())).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(KEY), "{widget}");
        assert!(
            err.message
                .contains("the request: `fills` needs at least one request field"),
            "{widget}: {}",
            err.message
        );
    }
    // A single string is a list of one: the CSV's times fill `time`, and `energy` keeps its widget.
    let one = ui(&request(None, json!({"widget": "time_series_csv", "fills": "time"}))).unwrap();
    assert_eq!(names_of(&one), ["csv", "energy", "models"]);
}

#[test]
fn a_field_override_with_an_empty_or_malformed_fills_is_refused_with_that_field() {
    for fills in [json!([]), json!([3]), json!(null), json!(7)] {
        let widget = json!({"widget": "time_series_csv", "fills": fills});
        let err = ui(&request(Some("time"), widget)).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("time"), "{fills}");
        assert!(
            err.message
                .contains("request field `time`: `fills` needs at least one request field"),
            "{fills}: {}",
            err.message
        );
    }
}

#[test]
fn a_field_override_fills_its_fields_which_get_no_widget_of_their_own() {
    let widget = json!({"widget": "time_series_csv", "fills": ["time", "energy"], "label": "Load CSV"});
    let ui = ui(&request(Some("time"), widget)).unwrap();
    let inputs = ui.spec().inputs;
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        names,
        ["models", "time"],
        "`energy` is filled by the CSV, so it has no input"
    );
    assert_eq!(inputs[1].kind, InputKind::TimeSeriesCsvFile);
    assert_eq!(inputs[1].label, "Load CSV");
    let help = inputs[1].description.as_deref().unwrap_or_default();
    assert!(help.contains("`time`") && help.contains("energy"), "{help}");
    let values = InputValues::new()
        .with("time", InputValue::TimeSeries(series()))
        .with("models", InputValue::Choices(vec!["green".into()]));
    assert_eq!(
        ui.prepare(&values).unwrap().json,
        json!({"models": ["green"], "time": ["2024-01-01 00:00", "2024-01-01 01:00"], "energy": [5.0, 6.0]})
    );
    // Without `fills`, a field's CSV fills that field alone: its times.
    let alone =
        SchemaUi::from_schemas("T", "", &request(Some("time"), json!("time_series_csv")), &json!(true)).unwrap();
    assert_eq!(names_of(&alone), ["energy", "models", "time"]);
    let values = InputValues::new().with("time", InputValue::TimeSeries(series()));
    assert_eq!(
        alone.prepare(&values).unwrap().json,
        json!({"time": ["2024-01-01 00:00", "2024-01-01 01:00"]})
    );
}

#[test]
fn fills_naming_no_request_field_or_a_field_filled_twice_are_refused() {
    let widget = json!({"widget": "time_series_csv", "fills": ["time", "load"]});
    for at in [None, Some("time")] {
        let err = ui(&request(at, widget.clone())).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("load"), "{at:?}");
        assert!(
            err.message.contains("`load`, which is no request field"),
            "{}",
            err.message
        );
    }
    // The root's CSV fills `time` and `energy`; a field CSV on `models` may not fill `energy` too.
    let mut twice = request(None, json!({"widget": "time_series_csv", "fills": ["time", "energy"]}));
    twice["properties"]["models"][KEY] = json!({"widget": "time_series_csv", "fills": ["energy"]});
    let err = ui(&twice).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("energy"));
    assert!(err.message.contains("the CSV `csv` already fills"), "{}", err.message);
    // A field filled by another field's CSV cannot carry a CSV of its own.
    let mut nested = request(Some("models"), json!({"widget": "time_series_csv", "fills": ["time"]}));
    nested["properties"]["time"][KEY] = json!({"widget": "time_series_csv", "fills": ["energy"]});
    let err = ui(&nested).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("time"));
    assert!(err.message.contains("filled by the CSV `models`"), "{}", err.message);
    // The root CSV's input name may not shadow a field it does not fill.
    let shadow = request(
        None,
        json!({"widget": "time_series_csv", "fills": ["time", "energy"], "name": "models"}),
    );
    let err = ui(&shadow).unwrap_err();
    assert!(err.message.contains("named `models`"), "{}", err.message);
}
