//! The generated GUI's rich outputs (issue 18): which response schemas become a Label, a Gallery, an
//! AnnotatedImage or a Markdown output, with and without an `x-easymlserve-widget` override, what
//! their answers turn into, and the errors a malformed answer gives.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use base64::Engine;
use easymlserve_ui::{DynUi, OutputKind, OutputValue, SchemaUi};
use serde_json::{Value, json};

fn envelope(width: u64, height: u64, samples: &[u8]) -> Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({"dtype": "uint8", "shape": [height, width], "image": b64.encode(samples)})
}

fn envelope_schema() -> Value {
    json!({"type": "object", "properties": {"dtype": {"type": "string"}, "shape": {"type": "array", "items": {"type": "integer"}}, "image": {"type": "string"}}})
}

fn ui(request: Value, response: Value) -> SchemaUi {
    SchemaUi::from_schemas("T", "", &request, &response).unwrap()
}

fn answer(ui: &SchemaUi, request: Value, response: Value) -> easymlserve_ui::OutputValues {
    ui.present(ui.restore(request).unwrap(), response).unwrap()
}

#[test]
fn class_records_and_class_maps_become_labels_and_markdown_strings_markdown() {
    let response = json!({"type": "object", "properties": {
        "top": {"type": "array", "items": {"type": "object", "properties": {
            "label": {"type": "string"}, "confidence": {"type": "number"}}}},
        "probabilities": {"type": "object", "additionalProperties": {"type": "number"}},
        "card": {"type": "string", "contentMediaType": "text/markdown"},
        "explanation": {"type": "string", "x-easymlserve-widget": "markdown"},
        "scores": {"type": "array", "items": {"type": "number"}, "x-easymlserve-widget": {"widget": "label", "top_k": 2}},
        "leaderboard": {"type": "array", "items": {"type": "object", "properties": {
            "model": {"type": "string"}, "score": {"type": "number"}}}},
    }});
    let ui = ui(json!({"type": "object"}), response);
    let kinds: Vec<(String, OutputKind)> = ui.spec().outputs.into_iter().map(|o| (o.name, o.kind)).collect();
    let kind = |name: &str| kinds.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_eq!(kind("top"), OutputKind::Label { top_k: None });
    assert_eq!(kind("probabilities"), OutputKind::Label { top_k: None });
    assert_eq!(kind("card"), OutputKind::Markdown);
    assert_eq!(kind("explanation"), OutputKind::Markdown);
    assert_eq!(kind("scores"), OutputKind::Label { top_k: Some(2) });
    assert_eq!(
        kind("leaderboard"),
        OutputKind::Table,
        "a record without a class name stays a table"
    );

    let out = answer(
        &ui,
        json!({}),
        json!({
            "top": [{"label": "cat", "confidence": 0.2}, {"label": "dog", "confidence": 0.8}],
            "probabilities": {"a": 0.1, "b": 0.9},
            "card": "# Card\n\n<script>x</script>",
            "explanation": "plain *words*",
            "scores": [0.1, 0.7, 0.2],
            "leaderboard": [],
        }),
    );
    let Some(OutputValue::Label(top)) = out.get("top") else {
        panic!("top")
    };
    assert_eq!(top.classes[0].label, "dog");
    let Some(OutputValue::Label(map)) = out.get("probabilities") else {
        panic!("map")
    };
    assert_eq!(map.classes[0].label, "b");
    let Some(OutputValue::Label(scores)) = out.get("scores") else {
        panic!("scores")
    };
    assert_eq!(scores.classes[0].label, "1", "an unnamed score is named by its index");
    let Some(OutputValue::Markdown(card)) = out.get("card") else {
        panic!("card")
    };
    assert!(card.plain_text().contains("<script>x</script>"), "raw HTML stays text");

    let err = ui
        .present(ui.restore(json!({})).unwrap(), json!({"top": [{"label": "cat"}]}))
        .unwrap_err();
    assert!(
        err.message.contains("`top`") && err.message.contains("confidence"),
        "{}",
        err.message
    );
}

#[test]
fn image_lists_become_galleries_and_an_image_with_boxes_an_annotated_image() {
    let response = json!({"type": "object", "properties": {
        "crops": {"type": "array", "items": {"type": "object", "properties": {
            "image": envelope_schema(), "caption": {"type": "string"}}}},
        "found": {"type": "object", "properties": {"image": envelope_schema(), "boxes": {"type": "array"}}},
        "faces": {"type": "array", "x-easymlserve-widget": {"widget": "annotated_image", "over": "photo"}},
    }});
    let request = json!({"type": "object", "properties": {"photo": envelope_schema()}});
    let ui = ui(request, response);
    let kinds: Vec<OutputKind> = ui.spec().outputs.into_iter().map(|o| o.kind).collect();
    assert_eq!(
        kinds,
        [
            OutputKind::Gallery,
            OutputKind::AnnotatedImage,
            OutputKind::AnnotatedImage
        ]
    );

    let photo = envelope(4, 2, &[0, 50, 100, 150, 200, 250, 255, 0]);
    let out = answer(
        &ui,
        json!({"photo": photo}),
        json!({
            "crops": [{"image": envelope(1, 1, &[7]), "caption": "one"}, {"image": envelope(2, 1, &[1, 2]), "caption": "two"}],
            "found": {"image": photo, "boxes": [
                {"label": "cell", "box": {"x": 1, "y": 0, "width": 2, "height": 2}, "score": 0.9},
                {"class": "dot", "bbox": [0, 0, 1, 1]},
                {"label": "blob", "mask": envelope(4, 2, &[0, 1, 1, 0, 0, 0, 0, 0])},
            ]},
            "faces": [{"label": "face", "x": 0, "y": 1, "width": 1, "height": 1}],
        }),
    );
    let Some(OutputValue::Gallery(crops)) = out.get("crops") else {
        panic!("crops")
    };
    let captions: Vec<&str> = crops.items.iter().map(|i| i.caption.as_str()).collect();
    assert_eq!(captions, ["one", "two"]);
    assert_eq!((crops.items[1].image.width, crops.items[1].image.height), (2, 1));
    let Some(OutputValue::AnnotatedImage(found)) = out.get("found") else {
        panic!("found")
    };
    assert_eq!((found.image.width, found.image.height), (4, 2));
    let labels: Vec<&str> = found.annotations.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(labels, ["cell", "dot", "blob"]);
    assert_eq!(found.annotations[0].bbox.unwrap().width, 2.0);
    assert_eq!(found.annotations[0].score, Some(0.9));
    assert_eq!(found.annotations[1].bbox.unwrap().height, 1.0);
    assert!(found.annotations[2].mask_png.is_some());
    let Some(OutputValue::AnnotatedImage(faces)) = out.get("faces") else {
        panic!("faces")
    };
    assert_eq!(
        faces.annotations[0].bbox.unwrap().y,
        1.0,
        "flat keys are a box, drawn over the request's photo"
    );

    let err = ui
        .present(
            ui.restore(json!({"photo": photo})).unwrap(),
            json!({"faces": [{"label": "face"}]}),
        )
        .unwrap_err();
    assert!(
        err.message.contains("`faces`") && err.message.contains("neither a box"),
        "{}",
        err.message
    );
    let err = ui
        .present(
            ui.restore(json!({})).unwrap(),
            json!({"found": {"image": photo, "boxes": [{"label": "m", "mask": envelope(1, 1, &[1])}]}}),
        )
        .unwrap_err();
    assert!(
        err.message.contains("the mask is 1x1 but the image is 4x2"),
        "{}",
        err.message
    );
}
