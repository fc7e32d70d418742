//! Timestamp parsing for time-series inputs: the ISO 8601 / RFC 3339 forms and a few common CSV forms.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Formats of timestamps without an offset, read as UTC.
const NAIVE_FORMATS: [&str; 6] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
];

/// Milliseconds since the epoch of `text`, or `None` if it is not a timestamp we read. Accepts RFC 3339
/// (`2019-01-01T00:00:00Z`, `+01:00`), the naive forms above (as UTC), fractional seconds, and bare dates.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.timestamp_millis());
    }
    if let Ok(at) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%:z") {
        return Some(at.timestamp_millis());
    }
    let without_fraction = text
        .split('.')
        .next()
        .filter(|_| text.len() > 19 && text.as_bytes().get(19) == Some(&b'.'));
    let fraction_ms = without_fraction.and_then(|_| {
        let digits: String = text[20..].chars().take_while(char::is_ascii_digit).take(3).collect();
        format!("{digits:0<3}").parse::<i64>().ok()
    });
    let base = without_fraction.unwrap_or(text);
    for format in NAIVE_FORMATS {
        if let Ok(at) = NaiveDateTime::parse_from_str(base, format) {
            return Some(at.and_utc().timestamp_millis() + fraction_ms.unwrap_or(0));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::parse_timestamp;

    #[test]
    fn reads_the_common_forms() {
        let midnight = 1_546_300_800_000; // 2019-01-01T00:00:00Z
        for text in [
            "2019-01-01T00:00:00Z",
            "2019-01-01T01:00:00+01:00",
            "2019-01-01 00:00:00",
            "2019-01-01T00:00:00",
            "2019-01-01 00:00",
            "01.01.2019 00:00",
            "2019-01-01",
            " 2019-01-01 00:00:00 ",
        ] {
            assert_eq!(parse_timestamp(text), Some(midnight), "{text}");
        }
        assert_eq!(parse_timestamp("2019-01-01 00:00:00.250"), Some(midnight + 250));
        for bad in ["", "yesterday", "2019-13-01 00:00:00", "12345"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }
}
