//! Parsing and encoding of every UI component with good and bad values, the wire shape of outputs, and
//! the form generated from a request schema.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::io::Cursor;

use easymlserve_core::schemars::JsonSchema;
use easymlserve_ui::{
    DynUi, FileValue, ImageOutput, ImageValue, Input, InputKind, InputValue, InputValues, Output, OutputValue,
    OutputValues, Plot, RawInput, SchemaUi, Series, Table, TimeSeries, sanitize_file_name,
};
use serde::Deserialize;
use serde_json::json;

fn text(value: &str) -> RawInput {
    RawInput::Text(vec![value.to_owned()])
}

fn file(name: &str, bytes: &[u8]) -> RawInput {
    RawInput::File(FileValue {
        name: name.to_owned(),
        bytes: bytes.to_vec(),
    })
}

fn message(result: Result<InputValue, easymlserve_ui::UiError>) -> String {
    let err = result.unwrap_err();
    err.message
}

#[test]
fn text_inputs() {
    let input = Input::text("title", "Title");
    assert_eq!(input.parse(text("hi")).unwrap(), InputValue::Text("hi".into()));
    assert_eq!(message(input.parse(text(""))), "Title is required");
    assert_eq!(
        input.clone().optional().parse(RawInput::Absent).unwrap(),
        InputValue::Empty
    );
    let json = Input::json("cfg", "Config");
    assert!(matches!(json.parse(text("{\"a\": 1}")).unwrap(), InputValue::Text(_)));
    assert!(message(json.parse(text("{a"))).starts_with("Config is not valid JSON"));
}

#[test]
fn number_and_range_inputs() {
    let count = Input::number("count", "Count", true).bounds(0.0, 10.0);
    assert_eq!(count.parse(text("7")).unwrap(), InputValue::Number(7.0));
    assert_eq!(
        message(count.parse(text("7.5"))),
        "Count must be a whole number, got 7.5"
    );
    assert_eq!(message(count.parse(text("11"))), "Count must be at most 10, got 11");
    assert_eq!(
        message(count.parse(text("seven"))),
        "Count must be a number, got `seven`"
    );
    assert_eq!(message(count.parse(text("NaN"))), "Count must be a number, got `NaN`");
    let ratio = Input::range("ratio", "Ratio", 0.0, 1.0, 0.05);
    assert_eq!(ratio.parse(text("0.35")).unwrap(), InputValue::Number(0.35));
    assert_eq!(message(ratio.parse(text("-0.1"))), "Ratio must be at least 0, got -0.1");
}

#[test]
fn choice_inputs() {
    let one = Input::single_choice("model", "Model", ["LR", "SVR"]);
    assert_eq!(one.parse(text("SVR")).unwrap(), InputValue::Text("SVR".into()));
    assert_eq!(
        message(one.parse(text("RF"))),
        "`RF` is not one of the options of Model"
    );
    let many = Input::multiple_choice("models", "Models", ["LR", "SVR", "RF"]);
    let picked = many.parse(RawInput::Text(vec!["LR".into(), "RF".into()])).unwrap();
    assert_eq!(picked, InputValue::Choices(vec!["LR".into(), "RF".into()]));
    assert_eq!(
        message(many.parse(RawInput::Absent)),
        "choose at least one option of Models"
    );
    assert_eq!(
        message(many.parse(RawInput::Text(vec!["XGB".into()]))),
        "`XGB` is not one of the options of Models"
    );
    let flag = Input::checkbox("loud", "Loud");
    assert_eq!(flag.parse(text("true")).unwrap(), InputValue::Bool(true));
    assert_eq!(flag.parse(RawInput::Absent).unwrap(), InputValue::Bool(false));
}

#[test]
fn file_inputs() {
    let any = Input::file("doc", "Document", [".TXT", "md"]);
    assert_eq!(
        any.kind,
        InputKind::File {
            extensions: vec!["txt".into(), "md".into()]
        }
    );
    assert!(matches!(
        any.parse(file("notes.txt", b"x")).unwrap(),
        InputValue::File(_)
    ));
    assert_eq!(
        message(any.parse(file("notes.pdf", b"x"))),
        "Document: `notes.pdf` is not one of: txt, md"
    );
    assert_eq!(message(any.parse(RawInput::Absent)), "Document is required");
    assert_eq!(
        message(any.parse(file("empty.txt", b""))),
        "Document: the file `empty.txt` is empty"
    );
    assert_eq!(
        message(Input::text("t", "T").parse(file("a.txt", b"x"))),
        "T takes a value, not a file"
    );
}

fn encode(image: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

#[test]
fn image_inputs_decode_every_format_and_depth() {
    let grey8 = image::DynamicImage::ImageLuma8(image::GrayImage::from_fn(4, 3, |x, y| {
        image::Luma([(x * 10 + y) as u8])
    }));
    let grey16 =
        image::DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(4, 3, |x, _| image::Luma([x as u16 * 1000])));
    let rgb8 = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(4, 3, |x, _| image::Rgb([x as u8, 100, 200])));
    let cases = [
        (encode(grey8.clone(), image::ImageFormat::Png), "a.png", 1, 8),
        (encode(grey16.clone(), image::ImageFormat::Png), "a.png", 1, 16),
        (encode(grey16, image::ImageFormat::Tiff), "a.tif", 1, 16),
        (encode(grey8, image::ImageFormat::Tiff), "a.tiff", 1, 8),
        (encode(rgb8.clone(), image::ImageFormat::Png), "a.png", 3, 8),
        (encode(rgb8, image::ImageFormat::Jpeg), "a.jpg", 3, 8),
    ];
    let input = Input::image_file("img", "Image");
    for (bytes, name, channels, depth) in cases {
        let InputValue::Image(value) = input.parse(file(name, &bytes)).unwrap() else {
            panic!("not an image")
        };
        assert_eq!(
            (value.width, value.height, value.channels, value.bit_depth),
            (4, 3, channels, depth),
            "{name}"
        );
        assert_eq!(value.data.len(), 12 * usize::from(channels));
    }
    let InputValue::Image(grey) = input
        .parse(file(
            "g.png",
            &encode(
                image::DynamicImage::ImageLuma16(image::ImageBuffer::from_fn(4, 3, |x, _| {
                    image::Luma([x as u16 * 1000])
                })),
                image::ImageFormat::Png,
            ),
        ))
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(&grey.channel(0)[..4], &[0, 1000, 2000, 3000]);
    assert!(message(input.parse(file("x.png", b"not an image"))).contains("not a PNG, JPEG or TIFF"));
    let truncated = &encode(image::DynamicImage::new_luma8(64, 64), image::ImageFormat::Png)[..40];
    assert!(message(input.parse(file("t.png", truncated))).starts_with("the image cannot be decoded"));
}

#[test]
fn sixteen_bit_images_are_stretched_for_display() {
    let value = ImageValue {
        width: 2,
        height: 1,
        channels: 1,
        bit_depth: 16,
        data: vec![1000, 1200],
    };
    let shown = value.to_display();
    let decoded = image::load_from_memory(&shown.png).unwrap().into_luma8();
    assert_eq!(decoded.into_raw(), vec![0, 255]);
}

#[test]
fn csv_inputs_name_the_bad_line() {
    let input = Input::csv_file("t", "Table");
    let InputValue::Table(table) = input.parse(file("a.csv", b"a;b\n1;2\n3;4\n")).unwrap() else {
        panic!()
    };
    assert_eq!(table.columns, vec!["a", "b"]);
    assert_eq!(table.rows, vec![vec!["1", "2"], vec!["3", "4"]]);
    assert_eq!(
        message(input.parse(file("a.csv", b"a,b\n1,2\n3,4,5\n"))),
        "line 3: expected 2 fields like the header, found 3"
    );
    assert_eq!(
        message(input.parse(file("a.csv", b"\xff\xfe")))
            .split(' ')
            .take(4)
            .collect::<Vec<_>>(),
        ["the", "file", "is", "not"]
    );
    assert_eq!(Table::from_csv(table.to_csv().as_bytes(), "t").unwrap(), table);
}

#[test]
fn time_series_inputs_are_parsed_and_checked_for_order() {
    let input = Input::time_series_csv_file("s", "Series");
    let csv = b"time,energy\n2019-01-01 00:00:00,50000\n2019-01-01 01:00:00,51000.5\n";
    let InputValue::TimeSeries(series) = input.parse(file("s.csv", csv)).unwrap() else {
        panic!()
    };
    assert_eq!(series.epoch_ms, vec![1_546_300_800_000, 1_546_304_400_000]);
    assert_eq!(series.column("energy").unwrap(), &[50000.0, 51000.5]);
    assert_eq!(series.times[1], "2019-01-01 01:00:00");
    let plot = series.to_plot("Series");
    assert_eq!(plot.series[0].y, vec![Some(50000.0), Some(51000.5)]);
    let cases: [(&[u8], &str); 4] = [
        (
            b"time,energy\n2019-01-01 01:00,1\n2019-01-01 00:00,2\n",
            "line 3: `2019-01-01 00:00` is not after the previous timestamp; rows must be in time order",
        ),
        (b"time,energy\nsoon,1\n", "line 2: `soon` is not a date and time"),
        (
            b"time,energy\n2019-01-01 00:00,lots\n",
            "line 2: `energy` value `lots` is not a number",
        ),
        (
            b"time\n2019-01-01 00:00\n",
            "a time series needs a timestamp column and at least one value column",
        ),
    ];
    for (bytes, expected) in cases {
        assert_eq!(TimeSeries::from_csv(bytes, "s").unwrap_err().message, expected);
    }
}

#[test]
fn outputs_travel_as_name_kind_value() {
    let outputs = OutputValues::new()
        .with("n", OutputValue::Number(2.5))
        .with(
            "p",
            OutputValue::Plot(
                Plot::new("t")
                    .time_axis()
                    .series(Series::line("a", vec![0.0], vec![1.0]).bar()),
            ),
        )
        .with(
            "f",
            OutputValue::File(easymlserve_ui::FileOutput::csv("../../etc/passwd", "a\n".into())),
        );
    let wire = serde_json::to_value(&outputs.0).unwrap();
    assert_eq!(wire[0], json!({"name": "n", "kind": "number", "value": 2.5}));
    assert_eq!(wire[1]["value"]["x_type"], "time");
    assert_eq!(
        wire[1]["value"]["series"][0],
        json!({"name": "a", "kind": "bar", "x": [0.0], "y": [1.0]})
    );
    assert_eq!(
        wire[2]["value"],
        json!({"name": "passwd", "mime": "text/csv", "data": "YQo="})
    );
    let back: Vec<easymlserve_ui::OutputEntry> = serde_json::from_value(wire).unwrap();
    assert_eq!(back, outputs.0);
    assert_eq!(sanitize_file_name("..\\evil name?.csv"), "evil_name_.csv");
    assert_eq!(sanitize_file_name("..."), "download");
}

#[test]
fn image_outputs_carry_an_overlay_of_labels() {
    let out = ImageOutput::from_gray8(3, 1, vec![0, 128, 255]).with_labels(&[0, 1, 2]);
    let overlay = image::load_from_memory(out.overlay_png.as_ref().unwrap())
        .unwrap()
        .into_rgba8();
    assert_eq!(overlay.get_pixel(0, 0).0[3], 0, "label 0 is transparent");
    assert_eq!(overlay.get_pixel(1, 0).0[3], 255);
    assert_ne!(
        overlay.get_pixel(1, 0),
        overlay.get_pixel(2, 0),
        "labels get distinct colours"
    );
    let wire = serde_json::to_value(&out).unwrap();
    assert!(wire["png"].as_str().unwrap().starts_with("iVBOR"), "PNG as base64");
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum Kind {
    /// Linear.
    Linear,
    /// Forest.
    Forest,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Request {
    /// What to say.
    text: String,
    #[schemars(range(min = 1, max = 10))]
    repeat: u32,
    scale: f64,
    loud: bool,
    kind: Kind,
    kinds: Vec<Kind>,
    extra: Option<std::collections::BTreeMap<String, f64>>,
}

#[test]
fn schema_ui_maps_types_to_widgets_and_builds_the_request() {
    let schema = easymlserve_core::schemars::schema_for!(Request).to_value();
    let ui = SchemaUi::from_schema("Demo", "", &schema);
    let spec = ui.spec();
    let kinds: Vec<(&str, &str)> = spec
        .inputs
        .iter()
        .map(|i| {
            (
                i.name.as_str(),
                serde_json::to_value(&i.kind).unwrap()["kind"]
                    .as_str()
                    .unwrap()
                    .to_owned()
                    .leak() as &str,
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("extra", "text_long"),
            ("kind", "single_choice"),
            ("kinds", "multiple_choice"),
            ("loud", "checkbox"),
            ("repeat", "range"),
            ("scale", "number"),
            ("text", "text"),
        ]
    );
    assert_eq!(
        spec.inputs
            .iter()
            .find(|i| i.name == "text")
            .unwrap()
            .description
            .as_deref(),
        Some("What to say.")
    );
    assert!(!spec.inputs.iter().find(|i| i.name == "extra").unwrap().required);
    let values = InputValues::new()
        .with("text", InputValue::Text("hi".into()))
        .with("repeat", InputValue::Number(3.0))
        .with("scale", InputValue::Number(0.5))
        .with("loud", InputValue::Bool(true))
        .with("kind", InputValue::Text("forest".into()))
        .with("kinds", InputValue::Choices(vec!["linear".into()]))
        .with("extra", InputValue::Empty);
    let prepared = ui.prepare(&values).unwrap();
    assert_eq!(
        prepared.json,
        json!({"text": "hi", "repeat": 3, "scale": 0.5, "loud": true, "kind": "forest", "kinds": ["linear"]})
    );
    let outputs = ui.present(prepared, json!({"ok": true})).unwrap();
    assert_eq!(outputs.get("response"), Some(&OutputValue::Json(json!({"ok": true}))));
    let raw = SchemaUi::from_schema("Raw", "", &serde_json::Value::Bool(true));
    assert_eq!(
        raw.spec().inputs[0].kind,
        InputKind::TextLong {
            default: None,
            placeholder: None,
            json: true
        }
    );
    let _ = Output::json("x", "X");
}
