//! Timestamps of a request: read in the forms users send (ISO 8601 with `Z` or an offset, or naive and
//! read as UTC), and written back 24 hours later in the same form, so a forecast is stamped the way the
//! input was.

use chrono::{Duration, FixedOffset, NaiveDateTime};

/// Naive date-time forms we read; each must format back to exactly the text it was read from.
const FORMATS: [&str; 10] = [
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.3f",
    "%Y-%m-%d %H:%M:%S%.3f",
    "%Y-%m-%dT%H:%M:%S%.6f",
    "%Y-%m-%d %H:%M:%S%.6f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
];

/// A parsed timestamp that remembers how it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// Milliseconds since the epoch (UTC).
    pub epoch_ms: i64,
    local: NaiveDateTime,
    format: &'static str,
    suffix: String,
}

impl Stamp {
    /// Reads `text`; `None` if it is not a form we know.
    pub fn parse(text: &str) -> Option<Self> {
        let (body, suffix, offset) = split_offset(text)?;
        FORMATS.iter().find_map(|format| {
            let local = NaiveDateTime::parse_from_str(body, format).ok()?;
            if local.format(format).to_string() != body {
                return None;
            }
            let epoch_ms = (local - offset).and_utc().timestamp_millis();
            Some(Self {
                epoch_ms,
                local,
                format,
                suffix: suffix.to_owned(),
            })
        })
    }

    /// This time plus `hours`, written in the same form (same offset).
    pub fn shifted_text(&self, hours: i64) -> String {
        let later = self.local + Duration::hours(hours);
        format!("{}{}", later.format(self.format), self.suffix)
    }
}

/// Splits a trailing `Z` or `±HH:MM` off `text`: the naive part, the suffix as written, and the offset.
fn split_offset(text: &str) -> Option<(&str, &str, Duration)> {
    if let Some(body) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return Some((body, &text[body.len()..], Duration::zero()));
    }
    if text.len() > 6 && text.is_char_boundary(text.len() - 6) {
        let (body, suffix) = text.split_at(text.len() - 6);
        let looks_like_offset = suffix.starts_with(['+', '-']) && suffix.as_bytes()[3] == b':';
        // A date such as `2019-01-01` also ends in `-dd`; an offset follows a time, so needs a `:` before.
        if looks_like_offset && body.contains(':') {
            let offset: FixedOffset = suffix.parse().ok()?;
            return Some((body, suffix, Duration::seconds(i64::from(offset.local_minus_utc()))));
        }
    }
    Some((text, "", Duration::zero()))
}

#[cfg(test)]
mod tests {
    use super::Stamp;

    const MIDNIGHT: i64 = 1_546_300_800_000; // 2019-01-01T00:00:00Z

    #[test]
    fn reads_and_restamps_each_form() {
        for (text, epoch_ms, next_day) in [
            ("2019-01-01T00:00:00Z", MIDNIGHT, "2019-01-02T00:00:00Z"),
            ("2019-01-01 00:00:00", MIDNIGHT, "2019-01-02 00:00:00"),
            ("2019-01-01T01:00:00+01:00", MIDNIGHT, "2019-01-02T01:00:00+01:00"),
            ("2018-12-31 19:00:00-05:00", MIDNIGHT, "2019-01-01 19:00:00-05:00"),
            ("2019-01-01 00:00", MIDNIGHT, "2019-01-02 00:00"),
            ("31.12.2018 23:00", MIDNIGHT - 3_600_000, "01.01.2019 23:00"),
            ("2019-01-01T00:00:00.000Z", MIDNIGHT, "2019-01-02T00:00:00.000Z"),
            (
                "2019-02-28T12:00:00Z",
                MIDNIGHT + (58 * 24 + 12) * 3_600_000,
                "2019-03-01T12:00:00Z",
            ),
        ] {
            let stamp = Stamp::parse(text).unwrap_or_else(|| panic!("{text} did not parse"));
            assert_eq!(stamp.epoch_ms, epoch_ms, "{text}");
            assert_eq!(stamp.shifted_text(24), next_day, "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for text in [
            "",
            "yesterday",
            "2019-13-01 00:00:00",
            "2019-01-01",
            "12345",
            "2019-01-01 25:00",
        ] {
            assert_eq!(Stamp::parse(text), None, "{text}");
        }
    }
}
