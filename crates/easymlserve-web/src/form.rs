//! Reads the page's `multipart/form-data` into raw input values: one part per input, named after it,
//! files as file parts; the body limit holds across all parts, and nothing is written to disk.

use std::collections::BTreeMap;

use axum::extract::Multipart;
use axum::extract::multipart::MultipartError;
use easymlserve_ui::{FileValue, RawInput};

use crate::error::UiApiError;

/// Reads every part; names outside `known` are refused.
pub async fn read_form(
    mut form: Multipart,
    known: &[String],
    limit: usize,
) -> Result<BTreeMap<String, RawInput>, UiApiError> {
    let mut values: BTreeMap<String, RawInput> = BTreeMap::new();
    let mut total = 0usize;
    while let Some(mut field) = form.next_field().await.map_err(|e| form_error(&e, limit))? {
        let name = field.name().unwrap_or("").to_owned();
        if !known.contains(&name) {
            return Err(UiApiError::bad_form(format!("the form has no input named `{name}`")));
        }
        let file_name = field.file_name().map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| form_error(&e, limit))? {
            total += chunk.len();
            if total > limit {
                return Err(UiApiError::too_large(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        match file_name {
            Some(file_name) => {
                values.insert(name, RawInput::File(FileValue { name: file_name, bytes }));
            }
            None => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| UiApiError::bad_form(format!("the value of `{name}` is not UTF-8 text")))?;
                match values.entry(name).or_insert_with(|| RawInput::Text(Vec::new())) {
                    RawInput::Text(texts) => texts.push(text),
                    other => *other = RawInput::Text(vec![text]),
                }
            }
        }
    }
    Ok(values)
}

fn form_error(err: &MultipartError, limit: usize) -> UiApiError {
    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        UiApiError::too_large(limit)
    } else {
        UiApiError::bad_form(format!("the form data cannot be read: {}", err.body_text()))
    }
}
