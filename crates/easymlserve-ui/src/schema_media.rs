//! The generated GUI's table and sound inputs: an array of objects whose properties are all scalars
//! becomes a Dataframe input (columns from the item schema, rows bounded by `minItems`/`maxItems`,
//! initial rows from `default`) sent back as that array; the `audio` widget takes a WAV or FLAC and
//! sends a string field the sound as a base64 16-bit WAV, an object field the mono envelope
//! `{"sample_rate", "samples"}`; an `audio` response field (either shape) is played back. Rules in
//! `docs/generated-gui.md`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use easymlserve_core::{main_type, resolve};

use super::schema_inputs::Encoding;
use super::{AudioOutput, AudioValue, Column, ColumnType, Input, MAX_AUDIO_SECONDS, OutputValue, UiError};

/// The columns of an array-of-objects schema whose item properties are all strings, numbers,
/// integers or booleans; `None` for any other schema.
pub(crate) fn record_columns(array: &Value, root: &Value) -> Option<Vec<Column>> {
    if main_type(array) != "array" {
        return None;
    }
    let items = resolve(array.get("items")?, root);
    if main_type(items) != "object" {
        return None;
    }
    let properties = items.get("properties")?.as_object()?;
    if properties.is_empty() {
        return None;
    }
    properties
        .iter()
        .map(|(name, schema)| {
            let kind = match main_type(resolve(schema, root)) {
                "string" => ColumnType::Text,
                "integer" => ColumnType::Integer,
                "number" => ColumnType::Number,
                "boolean" => ColumnType::Bool,
                _ => return None,
            };
            Some(Column::of(name.clone(), kind))
        })
        .collect()
}

/// The Dataframe input of an array-of-objects field; an error naming the field when it is no such array.
pub(crate) fn dataframe(
    name: &str,
    label: String,
    field: &Value,
    root: &Value,
    default: Option<&Value>,
) -> Result<(Input, Encoding), UiError> {
    let columns = record_columns(field, root).ok_or_else(|| {
        UiError::field(
            name,
            format!("request field `{name}`: a dataframe needs an array of objects whose properties are strings, numbers or booleans"),
        )
    })?;
    let rows = default
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    columns
                        .iter()
                        .map(|c| row.get(&c.name).cloned().unwrap_or(Value::Null))
                        .collect()
                })
                .collect()
        })
        .unwrap_or_default();
    let count = |key: &str| field.get(key).and_then(Value::as_u64).map(|n| n as usize);
    let input = Input::dataframe(name, label, columns)
        .rows(rows)
        .row_bounds(count("minItems"), count("maxItems"));
    Ok((input, Encoding::Records))
}

/// The Audio input of a string (base64 WAV) or object (`{"sample_rate", "samples"}`) field.
pub(crate) fn audio(name: &str, label: String, field: &Value) -> Result<(Input, Encoding), UiError> {
    let encoding = match main_type(field) {
        "string" => Encoding::AudioWav,
        "object" => Encoding::AudioEnvelope,
        other => {
            return Err(UiError::field(
                name,
                format!(
                    "request field `{name}`: the audio widget needs a string (base64 WAV) or an object with `sample_rate` and `samples`, not {other}"
                ),
            ));
        }
    };
    Ok((Input::audio(name, label), encoding))
}

/// The request value of decoded audio for `encoding` (one of the two audio encodings).
pub(crate) fn encode_audio(audio: &AudioValue, envelope: bool) -> Value {
    if !envelope {
        return Value::String(STANDARD.encode(audio.to_wav()));
    }
    let channels = usize::from(audio.channels.max(1));
    let mono: Vec<f32> = audio
        .samples
        .chunks(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    serde_json::json!({"sample_rate": audio.sample_rate, "samples": mono})
}

/// The audio output of a response value: a base64 WAV or FLAC, or `{"sample_rate", "samples"}` (mono);
/// anything else is an error naming the field.
pub(crate) fn present_audio(name: &str, value: &Value) -> Result<OutputValue, UiError> {
    let audio = match value {
        Value::String(text) => {
            let bytes = STANDARD
                .decode(text.trim())
                .map_err(|e| UiError::field(name, format!("response field `{name}`: the audio is not base64: {e}")))?;
            AudioValue::decode(&bytes, name, MAX_AUDIO_SECONDS)?
        }
        Value::Object(object) => {
            let rate = object
                .get("sample_rate")
                .and_then(Value::as_u64)
                .filter(|r| (1..=u64::from(u32::MAX)).contains(r));
            let samples: Option<Vec<f32>> = object
                .get("samples")
                .and_then(Value::as_array)
                .and_then(|s| s.iter().map(|v| v.as_f64().map(|x| x as f32)).collect());
            match (rate, samples) {
                (Some(rate), Some(samples)) => AudioValue::new(rate as u32, 1, samples),
                _ => {
                    return Err(UiError::field(
                        name,
                        format!(
                            "response field `{name}`: audio needs a positive `sample_rate` and `samples`, a list of numbers"
                        ),
                    ));
                }
            }
        }
        _ => {
            return Err(UiError::field(
                name,
                format!(
                    "response field `{name}`: audio must be a base64 WAV/FLAC string or {{\"sample_rate\", \"samples\"}}"
                ),
            ));
        }
    };
    Ok(OutputValue::Audio(AudioOutput::from_value(&audio)))
}
