//! Parsing of what a GUI collected for one input (`RawInput`) into its typed `InputValue`: bounds,
//! choices, JSON text and file contents are checked here, so the value types stay plain data.

use super::UiError;
use super::audio::{AudioValue, MAX_AUDIO_SECONDS};
use super::dataframe::parse_rows;
use super::image::ImageValue;
use super::inputs::{Input, InputKind};
use super::table::{Table, TimeSeries};
use super::values::{FileValue, InputValue, RawInput};

impl Input {
    /// Parses what a GUI collected for this input, checking bounds, choices and file contents.
    pub fn parse(&self, raw: RawInput) -> Result<InputValue, UiError> {
        let name = self.name.as_str();
        let missing = || UiError::field(name, format!("{} is required", self.label));
        let texts = match raw {
            RawInput::File(file) => return self.parse_file(file),
            RawInput::Absent => Vec::new(),
            RawInput::Text(texts) => texts,
        };
        if self.kind.is_file() {
            return if self.required {
                Err(missing())
            } else {
                Ok(InputValue::Empty)
            };
        }
        let first = texts.first().map(|t| t.trim()).unwrap_or("");
        match &self.kind {
            InputKind::Checkbox { .. } => return Ok(InputValue::Bool(matches!(first, "true" | "on" | "1" | "yes"))),
            InputKind::MultipleChoice { choices, .. } => {
                let picked: Vec<String> = texts.into_iter().filter(|t| !t.is_empty()).collect();
                if let Some(bad) = picked.iter().find(|p| !choices.contains(p)) {
                    return Err(UiError::field(
                        name,
                        format!("`{bad}` is not one of the options of {}", self.label),
                    ));
                }
                if picked.is_empty() && self.required {
                    return Err(UiError::field(
                        name,
                        format!("choose at least one option of {}", self.label),
                    ));
                }
                return Ok(InputValue::Choices(picked));
            }
            _ => {}
        }
        if first.is_empty() && !matches!(self.kind, InputKind::Text { .. } | InputKind::TextLong { .. }) {
            return if self.required {
                Err(missing())
            } else {
                Ok(InputValue::Empty)
            };
        }
        match &self.kind {
            InputKind::Text { .. } | InputKind::TextLong { json: false, .. } => {
                let text = texts.into_iter().next().unwrap_or_default();
                match (text.is_empty(), self.required) {
                    (true, true) => Err(missing()),
                    (true, false) => Ok(InputValue::Empty),
                    _ => Ok(InputValue::Text(text)),
                }
            }
            InputKind::TextLong { json: true, .. } => match (first.is_empty(), self.required) {
                (true, true) => Err(missing()),
                (true, false) => Ok(InputValue::Empty),
                _ => serde_json::from_str::<serde_json::Value>(first)
                    .map(|_| InputValue::Text(first.to_owned()))
                    .map_err(|e| UiError::field(name, format!("{} is not valid JSON: {e}", self.label))),
            },
            InputKind::Number { integer, min, max, .. } => {
                let x = self.parse_number(first)?;
                if *integer && x.fract() != 0.0 {
                    return Err(UiError::field(
                        name,
                        format!("{} must be a whole number, got {first}", self.label),
                    ));
                }
                self.check_bounds(x, *min, *max)
            }
            InputKind::Range { min, max, .. } => {
                let x = self.parse_number(first)?;
                self.check_bounds(x, Some(*min), Some(*max))
            }
            InputKind::SingleChoice { choices, .. } => {
                if choices.iter().any(|c| c == first) {
                    Ok(InputValue::Text(first.to_owned()))
                } else {
                    Err(UiError::field(
                        name,
                        format!("`{first}` is not one of the options of {}", self.label),
                    ))
                }
            }
            InputKind::Dataframe {
                columns,
                min_rows,
                max_rows,
                ..
            } => parse_rows(columns, (*min_rows, *max_rows), first, name, &self.label).map(InputValue::Dataframe),
            _ => Err(missing()),
        }
    }

    fn parse_number(&self, text: &str) -> Result<f64, UiError> {
        text.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| UiError::field(&self.name, format!("{} must be a number, got `{text}`", self.label)))
    }

    fn check_bounds(&self, x: f64, min: Option<f64>, max: Option<f64>) -> Result<InputValue, UiError> {
        if let Some(min) = min.filter(|m| x < *m) {
            return Err(UiError::field(
                &self.name,
                format!("{} must be at least {min}, got {x}", self.label),
            ));
        }
        if let Some(max) = max.filter(|m| x > *m) {
            return Err(UiError::field(
                &self.name,
                format!("{} must be at most {max}, got {x}", self.label),
            ));
        }
        Ok(InputValue::Number(x))
    }

    fn parse_file(&self, file: FileValue) -> Result<InputValue, UiError> {
        let name = self.name.as_str();
        if !self.kind.is_file() {
            return Err(UiError::field(
                name,
                format!("{} takes a value, not a file", self.label),
            ));
        }
        if file.bytes.is_empty() {
            return if self.required {
                Err(UiError::field(
                    name,
                    format!("{}: the file `{}` is empty", self.label, file.name),
                ))
            } else {
                Ok(InputValue::Empty)
            };
        }
        let extensions = self.kind.accepted_extensions();
        let extension = file
            .name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if let InputKind::File { .. } = self.kind {
            if !extensions.is_empty() && !extensions.contains(&extension) {
                let wanted = extensions.join(", ");
                return Err(UiError::field(
                    name,
                    format!("{}: `{}` is not one of: {wanted}", self.label, file.name),
                ));
            }
        }
        match self.kind {
            InputKind::ImageFile | InputKind::Camera => ImageValue::decode(&file.bytes, name).map(InputValue::Image),
            InputKind::Audio { max_seconds } => {
                AudioValue::decode(&file.bytes, name, max_seconds.unwrap_or(MAX_AUDIO_SECONDS)).map(InputValue::Audio)
            }
            InputKind::CsvFile => Table::from_csv(&file.bytes, name).map(InputValue::Table),
            InputKind::TimeSeriesCsvFile => TimeSeries::from_csv(&file.bytes, name).map(InputValue::TimeSeries),
            _ => Ok(InputValue::File(file)),
        }
    }
}
