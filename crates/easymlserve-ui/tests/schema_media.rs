//! The generated GUI's table and sound inputs: an array of objects with scalar properties becomes a
//! Dataframe input whose typed rows go back as that array; the `camera` and `audio` overrides give
//! their inputs, audio sent as a base64 WAV to a string field and as the mono envelope to an object;
//! a `dataframe` override on a field that is no such array is refused naming the field.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use base64::Engine;
use easymlserve_core::schemars::{self, JsonSchema};
use easymlserve_ui::{AudioValue, ColumnType, DynUi, InputKind, InputValues, RawInput, SchemaUi};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Reading {
    site: String,
    day: i64,
    load: f64,
    holiday: bool,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Clip {
    sample_rate: u32,
    samples: Vec<f32>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Request {
    #[schemars(length(min = 1, max = 20))]
    readings: Vec<Reading>,
    #[schemars(extend("x-easymlserve-widget" = "camera"))]
    photo: Value,
    #[schemars(extend("x-easymlserve-widget" = "audio"))]
    voice: String,
    #[schemars(extend("x-easymlserve-widget" = "audio"))]
    clip: Clip,
}

#[test]
fn records_become_a_dataframe_and_audio_goes_back_as_wav_or_envelope() {
    let request = schemars::schema_for!(Request).to_value();
    let ui = SchemaUi::from_schemas("T", "", &request, &json!({})).unwrap();
    let inputs = ui.spec().inputs;
    let by = |name: &str| inputs.iter().find(|i| i.name == name).unwrap();
    let InputKind::Dataframe {
        columns,
        min_rows,
        max_rows,
        ..
    } = &by("readings").kind
    else {
        panic!("{:?}", by("readings").kind);
    };
    let kinds: Vec<_> = columns.iter().map(|c| (c.name.as_str(), c.kind)).collect();
    assert!(
        kinds.contains(&("day", ColumnType::Integer)) && kinds.contains(&("holiday", ColumnType::Bool)),
        "{kinds:?}"
    );
    assert_eq!((*min_rows, *max_rows), (Some(1), Some(20)));
    assert_eq!(by("photo").kind, InputKind::Camera);
    assert!(matches!(by("voice").kind, InputKind::Audio { .. }));
    assert!(matches!(by("clip").kind, InputKind::Audio { .. }));

    let order: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let row = |site: &str, day: &str, load: &str, holiday: &str| -> Vec<String> {
        order
            .iter()
            .map(|c| match *c {
                "site" => site,
                "day" => day,
                "load" => load,
                _ => holiday,
            })
            .map(str::to_owned)
            .collect()
    };
    let table = serde_json::to_string(&vec![row("Kiel", "3", "1.5", "yes"), row("Ulm", "4", "2", "")]).unwrap();
    let stereo = AudioValue::new(8000, 2, vec![0.5, 0.25, -0.5, -0.25]);
    let wav = |a: &AudioValue| {
        RawInput::File(easymlserve_ui::FileValue {
            name: "a.wav".into(),
            bytes: a.to_wav(),
        })
    };
    let png = {
        let img = image::GrayImage::from_pixel(3, 2, image::Luma([9]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        RawInput::File(easymlserve_ui::FileValue {
            name: "p.png".into(),
            bytes: out.into_inner(),
        })
    };
    let mut values = InputValues::new();
    values.insert("readings", by("readings").parse(RawInput::Text(vec![table])).unwrap());
    values.insert("photo", by("photo").parse(png).unwrap());
    values.insert("voice", by("voice").parse(wav(&stereo)).unwrap());
    values.insert("clip", by("clip").parse(wav(&stereo)).unwrap());
    let sent = ui.prepare(&values).unwrap().json;
    assert_eq!(
        sent["readings"],
        json!([
            {"site": "Kiel", "day": 3, "load": 1.5, "holiday": true},
            {"site": "Ulm", "day": 4, "load": 2.0, "holiday": false}
        ])
    );
    assert_eq!(sent["photo"]["shape"], json!([2, 3]));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sent["voice"].as_str().unwrap())
        .unwrap();
    let back = AudioValue::decode(&bytes, "voice", 10.0).unwrap();
    assert_eq!((back.sample_rate, back.channels, back.frames()), (8000, 2, 2));
    assert_eq!(sent["clip"]["sample_rate"], json!(8000));
    let mono: Vec<f64> = sent["clip"]["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        (mono[0] - 0.375).abs() < 1e-3 && (mono[1] + 0.375).abs() < 1e-3,
        "{mono:?}"
    );

    let err = by("readings")
        .parse(RawInput::Text(vec![
            serde_json::to_string(&vec![row("Kiel", "x", "1", "")]).unwrap(),
        ]))
        .unwrap_err();
    assert!(
        err.message.contains("column `day`, row 1: `x` is not a whole number"),
        "{}",
        err.message
    );
}

#[test]
fn a_dataframe_override_on_a_plain_field_is_refused_with_the_field() {
    let request = json!({
        "type": "object",
        "properties": {"n": {"type": "integer", "x-easymlserve-widget": "dataframe"}},
        "required": ["n"]
    });
    let err = SchemaUi::from_schemas("T", "", &request, &json!({})).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("n"));
    assert!(
        err.message.contains("a dataframe needs an array of objects"),
        "{}",
        err.message
    );
}

#[test]
fn an_audio_response_field_plays_a_wav_string_or_an_envelope_and_refuses_other_values() {
    let response = json!({
        "type": "object",
        "properties": {
            "wav": {"type": "string", "x-easymlserve-widget": "audio"},
            "clip": {"type": "object", "x-easymlserve-widget": "audio"}
        }
    });
    let ui = SchemaUi::from_schemas("T", "", &json!({"type": "object"}), &response).unwrap();
    let kinds: Vec<_> = ui.spec().outputs.into_iter().map(|o| o.kind).collect();
    assert_eq!(
        kinds,
        vec![easymlserve_ui::OutputKind::Audio, easymlserve_ui::OutputKind::Audio]
    );
    let wav = AudioValue::new(16_000, 1, vec![0.1; 8000]).to_wav();
    let answer = json!({
        "wav": base64::engine::general_purpose::STANDARD.encode(wav),
        "clip": {"sample_rate": 4000, "samples": [0.0, 0.5, -0.5, 0.0]}
    });
    let prepared = ui.prepare(&InputValues::new()).unwrap();
    let out = ui.present(prepared, answer).unwrap();
    let Some(easymlserve_ui::OutputValue::Audio(a)) = out.get("wav") else {
        panic!("{out:?}")
    };
    assert_eq!((a.sample_rate, a.duration), (16_000, 0.5));
    let Some(easymlserve_ui::OutputValue::Audio(c)) = out.get("clip") else {
        panic!("{out:?}")
    };
    assert_eq!((c.sample_rate, c.duration, c.waveform.len()), (4000, 0.001, 4));
    let prepared = ui.prepare(&InputValues::new()).unwrap();
    let err = ui
        .present(prepared, json!({"clip": {"sample_rate": 0, "samples": [1]}}))
        .unwrap_err();
    assert!(
        err.message.contains("`clip`") && err.message.contains("sample_rate"),
        "{}",
        err.message
    );
}
