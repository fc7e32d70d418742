//! The generated GUI's mapping from JSON Schema to widgets: every input kind with its label, bound,
//! step, default and description; every output kind from a response schema; `x-easymlserve-widget`
//! overrides set with schemars attributes, and the error an unknown widget name gives.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use base64::Engine;
use easymlserve_core::schemars::{self, JsonSchema};
use easymlserve_ui::{
    DynUi, Input, InputKind, InputValue, InputValues, OutputKind, OutputValue, SchemaUi, TimeSeries, XType,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Colour {
    Red,
    Green,
}

fn half() -> f64 {
    0.5
}
fn three() -> u32 {
    3
}

/// Every natural widget.
#[derive(Serialize, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Everything {
    /// The name to greet.
    name: String,
    /// A long story.
    #[schemars(length(max = 5000))]
    story: String,
    /// When it happened.
    #[schemars(extend("format" = "date-time"))]
    when: String,
    /// How many, 1 to 10.
    #[serde(default = "three")]
    #[schemars(range(min = 1, max = 10))]
    count: u32,
    /// A fraction in steps of 0.05.
    #[serde(default = "half")]
    #[schemars(range(min = 0.0, max = 1.0), extend("multipleOf" = 0.05))]
    ratio: f64,
    /// Unbounded above.
    #[schemars(range(min = 0))]
    big: u64,
    /// Above zero.
    #[schemars(extend("exclusiveMinimum" = 0))]
    positive: i32,
    #[schemars(title = "Loud mode")]
    loud: bool,
    colour: Colour,
    colours: Vec<Colour>,
    readings: Vec<f64>,
    tags: Vec<String>,
    extra: Option<std::collections::BTreeMap<String, f64>>,
}

fn input<'a>(inputs: &'a [Input], name: &str) -> &'a Input {
    inputs.iter().find(|i| i.name == name).unwrap()
}

fn ui_of<Req: JsonSchema, Resp: JsonSchema>() -> Result<SchemaUi, easymlserve_ui::UiError> {
    let request = schemars::schema_for!(Req).to_value();
    let response = schemars::schema_for!(Resp).to_value();
    SchemaUi::from_schemas("T", "", &request, &response)
}

#[test]
fn every_input_kind_carries_its_label_bounds_step_default_and_description() {
    let ui = ui_of::<Everything, Value>().unwrap();
    let inputs = ui.spec().inputs;
    let name = input(&inputs, "name");
    assert_eq!(
        (name.label.as_str(), name.description.as_deref()),
        ("Name", Some("The name to greet."))
    );
    assert!(matches!(name.kind, InputKind::Text { .. }) && name.required);
    assert!(matches!(
        input(&inputs, "story").kind,
        InputKind::TextLong { json: false, .. }
    ));
    assert!(matches!(&input(&inputs, "when").kind, InputKind::Text { placeholder: Some(p), .. } if p.contains('T')));
    let count = input(&inputs, "count");
    assert_eq!(
        count.kind,
        InputKind::Range {
            min: 1.0,
            max: 10.0,
            step: 1.0,
            default: Some(3.0)
        }
    );
    assert!(!count.required, "a field with a default is optional");
    assert_eq!(
        input(&inputs, "ratio").kind,
        InputKind::Range {
            min: 0.0,
            max: 1.0,
            step: 0.05,
            default: Some(0.5)
        }
    );
    assert_eq!(
        input(&inputs, "big").kind,
        InputKind::Number {
            integer: true,
            min: Some(0.0),
            max: None,
            step: Some(1.0),
            default: None
        }
    );
    assert!(matches!(
        input(&inputs, "positive").kind,
        InputKind::Number { min: Some(1.0), .. }
    ));
    let loud = input(&inputs, "loud");
    assert_eq!(
        (loud.label.as_str(), &loud.kind),
        ("Loud mode", &InputKind::Checkbox { default: false })
    );
    assert!(
        matches!(&input(&inputs, "colour").kind, InputKind::SingleChoice { choices, .. } if choices == &["red", "green"])
    );
    assert!(matches!(&input(&inputs, "colours").kind, InputKind::MultipleChoice { choices, .. } if choices.len() == 2));
    assert!(input(&inputs, "readings").label.contains("numbers"));
    assert!(input(&inputs, "tags").label.contains("one per line"));
    let extra = input(&inputs, "extra");
    assert!(matches!(extra.kind, InputKind::TextLong { json: true, .. }) && !extra.required);

    let values = InputValues::new()
        .with("name", InputValue::Text("Ada".into()))
        .with("story", InputValue::Text("once".into()))
        .with("when", InputValue::Text("2024-01-31T12:00:00Z".into()))
        .with("count", InputValue::Number(4.0))
        .with("ratio", InputValue::Number(0.25))
        .with("big", InputValue::Number(7.0))
        .with("positive", InputValue::Number(2.0))
        .with("loud", InputValue::Bool(true))
        .with("colour", InputValue::Text("red".into()))
        .with("colours", InputValue::Choices(vec!["green".into()]))
        .with("readings", InputValue::Text("1, 2.5\n3 null".into()))
        .with("tags", InputValue::Text("a\n\n b \n".into()))
        .with("extra", InputValue::Text("{\"k\": 1}".into()));
    let prepared = ui.prepare(&values).unwrap();
    assert_eq!(
        prepared.json,
        json!({"name": "Ada", "story": "once", "when": "2024-01-31T12:00:00Z", "count": 4, "ratio": 0.25,
               "big": 7, "positive": 2, "loud": true, "colour": "red", "colours": ["green"],
               "readings": [1.0, 2.5, 3.0, null], "tags": ["a", "b"], "extra": {"k": 1}})
    );
    let bad = values.clone().with("readings", InputValue::Text("1, two".into()));
    let err = ui.prepare(&bad).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("readings"));
    assert!(err.message.contains("`two`"), "{}", err.message);
    let err = ui
        .prepare(&values.with("when", InputValue::Text("yesterday".into())))
        .unwrap_err();
    assert_eq!(err.field.as_deref(), Some("when"));
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Envelope {
    dtype: String,
    shape: Vec<u64>,
    image: String,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Row {
    city: String,
    degrees: f64,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Line {
    model: String,
    time: Vec<String>,
    energy: Vec<f64>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Curves {
    time: Vec<String>,
    low: Vec<f64>,
    high: Vec<Option<f64>>,
}

/// Every natural output.
#[derive(Serialize, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Answer {
    /// The total, in MW.
    #[schemars(extend("x-easymlserve-widget" = {"widget": "number", "unit": "MW", "precision": 1}))]
    total: f64,
    summary: String,
    ok: bool,
    rows: Vec<Row>,
    lines: Vec<Line>,
    curves: Curves,
    picture: Envelope,
    raw: std::collections::BTreeMap<String, u8>,
    #[schemars(extend("x-easymlserve-widget" = "hidden"))]
    internal: u8,
}

#[test]
fn every_output_kind_comes_from_the_response_schema() {
    let ui = ui_of::<Value, Answer>().unwrap();
    let outputs = ui.spec().outputs;
    let kinds: Vec<(&str, &OutputKind)> = outputs.iter().map(|o| (o.name.as_str(), &o.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            ("curves", &OutputKind::Plot),
            ("lines", &OutputKind::Plot),
            ("ok", &OutputKind::Text),
            ("picture", &OutputKind::Image),
            ("raw", &OutputKind::Json),
            ("rows", &OutputKind::Table),
            ("summary", &OutputKind::Text),
            (
                "total",
                &OutputKind::Number {
                    unit: Some("MW".into()),
                    precision: Some(1)
                }
            ),
        ]
    );
    assert_eq!(
        outputs.last().unwrap().description.as_deref(),
        Some("The total, in MW.")
    );
    let pixels = base64::engine::general_purpose::STANDARD.encode([0u8, 50, 100, 150, 200, 250]);
    let answer = json!({
        "total": 12.5, "summary": "fine", "ok": true, "internal": 3,
        "rows": [{"city": "Kiel", "degrees": 4.5}, {"city": "Ulm", "degrees": 7}],
        "lines": [{"model": "LR", "time": ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"], "energy": [1.0, 2.0]},
                  {"model": "RF", "time": ["2024-01-01T00:00:00Z"], "energy": [1.5]}],
        "curves": {"time": ["2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z"], "low": [1, 2], "high": [3, null]},
        "picture": {"dtype": "uint8", "shape": [2, 3], "image": pixels},
        "raw": {"a": 1}
    });
    let out = ui.present(ui.restore(json!({})).unwrap(), answer).unwrap();
    assert_eq!(out.get("total"), Some(&OutputValue::Number(12.5)));
    assert_eq!(out.get("ok"), Some(&OutputValue::Text("yes".into())));
    assert!(out.get("internal").is_none());
    let Some(OutputValue::Table(table)) = out.get("rows") else {
        panic!("no table")
    };
    assert_eq!(table.columns, ["city", "degrees"]);
    assert_eq!(table.rows[1], ["Ulm", "7"]);
    let Some(OutputValue::Plot(lines)) = out.get("lines") else {
        panic!("no plot")
    };
    assert_eq!(lines.x_type, XType::Time);
    let names: Vec<&str> = lines.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["LR", "RF"]);
    assert_eq!(lines.series[0].x, [1_704_067_200_000.0, 1_704_070_800_000.0]);
    let Some(OutputValue::Plot(curves)) = out.get("curves") else {
        panic!("no plot")
    };
    assert_eq!(curves.series.len(), 2);
    let high = curves.series.iter().find(|s| s.name == "High").unwrap();
    assert_eq!(high.y, [Some(3.0), None]);
    let Some(OutputValue::Image(image)) = out.get("picture") else {
        panic!("no image")
    };
    assert_eq!((image.width, image.height), (3, 2));
    let broken = json!({"picture": {"dtype": "uint8", "shape": [2, 2], "image": pixels}});
    let err = ui.present(ui.restore(json!({})).unwrap(), broken).unwrap_err();
    assert!(
        err.message.contains("picture") && err.message.contains("bytes"),
        "{}",
        err.message
    );
}

/// A forecasting-like request with a CSV override on the root.
#[derive(Serialize, Deserialize, JsonSchema)]
#[schemars(extend("x-easymlserve-widget" = {"widget": "time_series_csv", "fills": ["time", "energy"], "label": "Load CSV"}))]
#[allow(dead_code)]
struct Series {
    models: Vec<Colour>,
    time: Vec<String>,
    energy: Vec<Option<f64>>,
}

#[test]
fn a_root_override_fills_two_fields_from_one_csv() {
    let ui = ui_of::<Series, Value>().unwrap();
    let inputs = ui.spec().inputs;
    let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["csv", "models"]);
    assert_eq!(inputs[0].kind, InputKind::TimeSeriesCsvFile);
    assert_eq!(inputs[0].label, "Load CSV");
    let series = TimeSeries::from_csv(b"time,energy\n2024-01-01 00:00,5\n2024-01-01 01:00,6\n", "csv").unwrap();
    let values = InputValues::new()
        .with("csv", InputValue::TimeSeries(series))
        .with("models", InputValue::Choices(vec!["red".into()]));
    assert_eq!(
        ui.prepare(&values).unwrap().json,
        json!({"time": ["2024-01-01 00:00", "2024-01-01 01:00"], "energy": [5.0, 6.0], "models": ["red"]})
    );
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Typo {
    #[schemars(extend("x-easymlserve-widget" = "slidr"))]
    repeat: u32,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Forced {
    #[schemars(extend("x-easymlserve-widget" = {"widget": "slider", "min": 0, "max": 50, "step": 5, "label": "Speed"}))]
    speed: u32,
    #[schemars(extend("x-easymlserve-widget" = {"widget": "hidden", "value": "v2"}))]
    version: String,
}

#[test]
fn field_overrides_apply_and_unknown_names_are_refused_with_the_field() {
    let err = ui_of::<Typo, Value>().unwrap_err();
    assert_eq!(err.field.as_deref(), Some("repeat"));
    assert!(err.message.contains("unknown widget `slidr`"), "{}", err.message);
    let refused = easymlserve_ui::generated_ui(&easymlserve_core::ServiceSpec::new(
        easymlserve_core::ServiceInfo::new("typo"),
        schemars::schema_for!(Typo).to_value(),
        json!(true),
    ));
    assert!(
        refused.spec().description.contains("`repeat`"),
        "{}",
        refused.spec().description
    );
    assert!(refused.prepare(&InputValues::new()).is_err());
    let ui = ui_of::<Forced, Value>().unwrap();
    let inputs = ui.spec().inputs;
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0].label, "Speed");
    assert_eq!(
        inputs[0].kind,
        InputKind::Range {
            min: 0.0,
            max: 50.0,
            step: 5.0,
            default: None
        }
    );
    let values = InputValues::new().with("speed", InputValue::Number(15.0));
    assert_eq!(ui.prepare(&values).unwrap().json, json!({"speed": 15, "version": "v2"}));
}

#[test]
fn an_image_override_on_the_root_uploads_the_envelope() {
    let mut request = schemars::schema_for!(Envelope).to_value();
    request["x-easymlserve-widget"] = json!("image");
    let response = json!({"type": "object", "properties": {"dtype": {"type": "string"}, "shape": {"type": "array"},
        "image": {"type": "string"}}, "x-easymlserve-widget": "label_overlay"});
    let ui = SchemaUi::from_schemas("Cells", "", &request, &response).unwrap();
    let spec = ui.spec();
    assert_eq!(spec.inputs[0].kind, InputKind::ImageFile);
    assert_eq!(spec.outputs[0].kind, OutputKind::Image);
    let image = easymlserve_ui::ImageValue {
        width: 2,
        height: 1,
        channels: 1,
        bit_depth: 8,
        data: vec![10, 200],
    };
    let prepared = ui
        .prepare(&InputValues::new().with("image", InputValue::Image(image)))
        .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(
        prepared.json,
        json!({"dtype": "uint8", "shape": [1, 2], "image": b64.encode([10u8, 200])})
    );
    let labels = json!({"dtype": "uint16", "shape": [1, 2], "image": b64.encode([0u8, 0, 1, 0])});
    let out = ui.present(prepared, labels).unwrap();
    let Some(OutputValue::Image(shown)) = out.get("response") else {
        panic!("no image")
    };
    assert!(shown.overlay_png.is_some());
}
