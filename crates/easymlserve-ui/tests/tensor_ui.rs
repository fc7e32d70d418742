//! The GUI generated from a tensor signature, for each kind of tensor: an image-shaped input becomes an
//! upload converted to the model's layout, size and scale; a small vector becomes number fields filled
//! from the example; anything else a JSON editor. A classifier's scores become ranked class names, a
//! single value a number, anything else JSON. Both GUIs use it (`generated_ui`).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use easymlserve_core::{ImageLayout, ServiceInfo, ServiceSpec, TensorSignature, TensorSpec};
use easymlserve_ui::{
    ImageValue, InputKind, InputValue, InputValues, OutputKind, OutputValue, TensorUi, Ui, generated_ui,
};
use serde_json::{Value, json};

fn spec() -> ServiceSpec {
    let mut spec = ServiceSpec::new(ServiceInfo::new("tensors"), json!({}), json!({}));
    spec.example_request = Some(json!({"features": [[1.5, -2.0, 3.0]]}));
    spec.tensors = Some(TensorSignature {
        inputs: vec![
            TensorSpec {
                image: Some(ImageLayout {
                    channels_first: true,
                    channels: 1,
                    height: Some(2),
                    width: Some(2),
                    scale: 16.0 / 255.0,
                    offset: 0.0,
                }),
                ..TensorSpec::new("image", "FP32", vec![-1, 1, 2, 2])
            },
            TensorSpec::new("features", "FP32", vec![-1, 3]),
            TensorSpec::new("counts", "INT64", vec![-1, 100]),
        ],
        outputs: vec![
            TensorSpec {
                labels: Some(vec!["cat".into(), "dog".into(), "fox".into()]),
                ..TensorSpec::new("scores", "FP32", vec![-1, 3])
            },
            TensorSpec::new("value", "FP32", vec![-1, 1]),
            TensorSpec::new("embedding", "FP32", vec![-1, 4]),
        ],
        platform: None,
    });
    spec
}

#[test]
fn each_tensor_kind_gets_its_widget() {
    let ui = TensorUi::from_spec(&spec()).unwrap();
    let inputs = ui.inputs();
    let kinds: Vec<(&str, &str)> = inputs
        .iter()
        .map(|i| {
            let kind = match &i.kind {
                InputKind::ImageFile => "image",
                InputKind::Number { .. } => "number",
                InputKind::TextLong { json: true, .. } => "json",
                _ => "other",
            };
            (i.name.as_str(), kind)
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("image", "image"),
            ("features[0]", "number"),
            ("features[1]", "number"),
            ("features[2]", "number"),
            ("counts", "json"),
        ]
    );
    let outputs: Vec<(String, OutputKind)> = ui.outputs().into_iter().map(|o| (o.name, o.kind)).collect();
    assert!(matches!(outputs[0], (ref n, OutputKind::Label { top_k: Some(5) }) if n == "scores"));
    assert!(matches!(outputs[1].1, OutputKind::Number { .. }));
    assert!(matches!(outputs[2].1, OutputKind::Json));
    // A spec without tensors gets the schema form instead.
    let plain = ServiceSpec::new(
        ServiceInfo::new("plain"),
        json!({"type": "object", "properties": {"a": {"type": "string"}}}),
        json!({}),
    );
    assert_eq!(generated_ui(&plain).spec().inputs[0].name, "a");
    assert_eq!(generated_ui(&spec()).spec().inputs[0].name, "image");
}

#[test]
fn inputs_become_the_tensor_request_and_outputs_are_ranked() {
    let ui = TensorUi::from_spec(&spec()).unwrap();
    // A 4 x 4 grey image, white on the left half: each 2 x 2 block is averaged, then scaled to 0..16.
    let pixels: Vec<u16> = (0..16).map(|i| if i % 4 < 2 { 255 } else { 0 }).collect();
    let image = ImageValue {
        width: 4,
        height: 4,
        channels: 1,
        bit_depth: 8,
        data: pixels,
    };
    let values = InputValues::new()
        .with("image", InputValue::Image(image))
        .with("features[0]", InputValue::Number(1.5))
        .with("features[1]", InputValue::Number(-2.0))
        .with("features[2]", InputValue::Number(3.0))
        .with("counts", InputValue::Text("[[1, 2]]".into()));
    let request = ui.prepare_request(&values).unwrap();
    assert_eq!(request["image"], json!([[[[16.0, 0.0], [16.0, 0.0]]]]));
    assert_eq!(request["features"], json!([[1.5, -2.0, 3.0]]));
    assert_eq!(request["counts"], json!([[1, 2]]));
    let missing = ui.prepare_request(&InputValues::new().with("counts", InputValue::Text("[]".into())));
    assert!(missing.is_err(), "an image is required");

    let response = json!({"scores": [[0.2, 0.7, 0.1]], "value": [[4.25]], "embedding": [[1, 2, 3, 4]]});
    let shown = ui.process_response(&request, response).unwrap();
    let Some(OutputValue::Label(ranked)) = shown.get("scores") else {
        panic!("scores are a label")
    };
    let classes: Vec<&str> = ranked.classes.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(classes, ["dog", "cat", "fox"]);
    assert_eq!(ranked.classes[0].confidence, 0.7);
    assert_eq!(shown.get("value"), Some(&OutputValue::Number(4.25)));
    assert!(matches!(
        shown.get("embedding"),
        Some(OutputValue::Json(Value::Array(_)))
    ));
}

#[test]
fn number_fields_default_to_the_example() {
    let ui = TensorUi::from_spec(&spec()).unwrap();
    let defaults: Vec<Value> = ui
        .inputs()
        .iter()
        .filter(|i| i.name.starts_with("features"))
        .map(|i| serde_json::to_value(&i.kind).unwrap()["default"].clone())
        .collect();
    assert_eq!(defaults, vec![json!(1.5), json!(-2.0), json!(3.0)]);
}
