//! How the generated GUI's input values go back into the request: each binding's encoding (text,
//! numbers, lists, JSON, the image envelope of an upload, the fields a time-series CSV fills), with
//! errors that name the input. The widgets themselves are chosen in `schema_inputs.rs`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::schema_inputs::{Binding, Encoding};
use super::schema_media::encode_audio;
use super::{InputValue, InputValues, UiError, parse_timestamp};

/// The request value of one binding, or `None` to leave the field out.
pub(crate) fn encode(
    b: &Binding,
    inputs: &InputValues,
    body: &mut Map<String, Value>,
) -> Result<Option<Value>, UiError> {
    let name = b.name.as_str();
    let value = match (&b.encoding, inputs.get(name)) {
        (Encoding::Constant(c), _) => return Ok(c.clone()),
        (_, None | Some(InputValue::Empty)) => return Ok(None),
        (Encoding::Fills(fields), Some(InputValue::TimeSeries(series))) => {
            let Some((time, rest)) = fields.split_first() else {
                return Err(UiError::field(name, "`fills` needs at least one request field"));
            };
            let mut columns = series.columns.iter().enumerate();
            body.insert(time.clone(), Value::from(series.times.clone()));
            for field in rest {
                let index = series
                    .columns
                    .iter()
                    .position(|c| c == field)
                    .or_else(|| columns.next().map(|(i, _)| i))
                    .ok_or_else(|| {
                        UiError::field(
                            name,
                            format!(
                                "the file has no column for `{field}`; found {}",
                                series.columns.join(", ")
                            ),
                        )
                    })?;
                body.insert(field.clone(), Value::from(series.values[index].clone()));
            }
            return Ok(None);
        }
        (Encoding::ImageEnvelope, Some(InputValue::Image(image))) => {
            let wide = image.bit_depth > 8;
            let mut bytes = Vec::with_capacity(image.data.len() * if wide { 2 } else { 1 });
            for v in &image.data {
                if wide {
                    bytes.extend_from_slice(&v.to_le_bytes());
                } else {
                    bytes.push(*v as u8);
                }
            }
            let mut shape = vec![Value::from(image.height), Value::from(image.width)];
            if image.channels > 1 {
                shape.push(Value::from(image.channels));
            }
            serde_json::json!({
                "dtype": if wide { "uint16" } else { "uint8" },
                "shape": shape,
                "image": STANDARD.encode(bytes),
            })
        }
        (Encoding::Records, Some(InputValue::Dataframe(table))) => table.to_records(),
        (Encoding::AudioWav, Some(InputValue::Audio(audio))) => encode_audio(audio, false),
        (Encoding::AudioEnvelope, Some(InputValue::Audio(audio))) => encode_audio(audio, true),
        (Encoding::Json, Some(InputValue::Text(t))) => {
            serde_json::from_str(t).map_err(|e| UiError::field(name, format!("not valid JSON: {e}")))?
        }
        (Encoding::DateTime, Some(InputValue::Text(t))) => {
            if parse_timestamp(t).is_none() {
                return Err(UiError::field(
                    name,
                    format!("`{t}` is not a date and time, e.g. 2024-01-31T12:00:00Z"),
                ));
            }
            Value::String(t.clone())
        }
        (Encoding::NumberList { integer }, Some(InputValue::Text(t))) => number_list(t, *integer, name)?,
        (Encoding::TextList, Some(InputValue::Text(t))) => {
            Value::from(t.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>())
        }
        (_, Some(InputValue::Text(t))) => Value::String(t.clone()),
        (Encoding::Integer, Some(InputValue::Number(x))) => Value::from(x.round() as i64),
        (_, Some(InputValue::Number(x))) => Value::from(*x),
        (_, Some(InputValue::Bool(b))) => Value::Bool(*b),
        (_, Some(InputValue::Choices(c))) => Value::from(c.clone()),
        (_, Some(_)) => return Err(UiError::field(name, "this field takes no file")),
    };
    Ok(Some(value))
}

/// `1, 2.5 3` or `[1, 2.5, 3]` as a JSON array; `null` (or an empty cell between commas) is null.
fn number_list(text: &str, integer: bool, field: &str) -> Result<Value, UiError> {
    let trimmed = text.trim();
    let inner = trimmed
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(trimmed);
    let mut out = Vec::new();
    for (i, token) in inner
        .split([',', '\n', ';', ' ', '\t'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .enumerate()
    {
        if token == "null" {
            out.push(Value::Null);
            continue;
        }
        let x: f64 = token
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| UiError::field(field, format!("item {} (`{token}`) is not a number", i + 1)))?;
        if integer && x.fract() != 0.0 {
            return Err(UiError::field(
                field,
                format!("item {} (`{token}`) is not a whole number", i + 1),
            ));
        }
        out.push(if integer { Value::from(x as i64) } else { Value::from(x) });
    }
    Ok(Value::Array(out))
}
