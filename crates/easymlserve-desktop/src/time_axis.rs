//! Time axis ticks on round times: egui_plot's default grid divides by powers of ten, which on epoch
//! milliseconds lands on times like 16:53 and 06:40. This spacer picks a step from minutes to years
//! by the visible span (hours, whole UTC days, Mondays, first days of months, new years) and labels
//! the ticks like the web page does (`MM-DD HH:MM` below a day, the date from a day up).

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use egui_plot::{GridInput, GridMark};

const MINUTE: f64 = 60_000.0;
const HOUR: f64 = 60.0 * MINUTE;
const DAY: f64 = 24.0 * HOUR;
/// 1970-01-05, the first Monday after the epoch: weeks are counted from it.
const FIRST_MONDAY: f64 = 4.0 * DAY;

/// A step between ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    /// A fixed length in milliseconds (minutes to days), counted from the epoch.
    Fixed(f64),
    /// Whole weeks from a Monday.
    Weeks(u32),
    /// Whole months from January.
    Months(u32),
}

impl Step {
    /// About how long the step is, in milliseconds.
    fn length(self) -> f64 {
        match self {
            Self::Fixed(ms) => ms,
            Self::Weeks(n) => f64::from(n) * 7.0 * DAY,
            Self::Months(n) => f64::from(n) * 30.44 * DAY,
        }
    }
}

const STEPS: [Step; 21] = [
    Step::Fixed(MINUTE),
    Step::Fixed(5.0 * MINUTE),
    Step::Fixed(15.0 * MINUTE),
    Step::Fixed(30.0 * MINUTE),
    Step::Fixed(HOUR),
    Step::Fixed(2.0 * HOUR),
    Step::Fixed(3.0 * HOUR),
    Step::Fixed(6.0 * HOUR),
    Step::Fixed(12.0 * HOUR),
    Step::Fixed(DAY),
    Step::Fixed(2.0 * DAY),
    Step::Weeks(1),
    Step::Weeks(2),
    Step::Months(1),
    Step::Months(3),
    Step::Months(6),
    Step::Months(12),
    Step::Months(24),
    Step::Months(60),
    Step::Months(120),
    Step::Months(1200),
];

/// The smallest step at least `at_least` milliseconds long.
fn step_at_least(at_least: f64) -> Step {
    STEPS
        .into_iter()
        .find(|s| s.length() >= at_least)
        .unwrap_or(Step::Months(1200))
}

/// The first day of the month `months` months after January 1970, as epoch milliseconds.
fn month_start(months: i64) -> Option<f64> {
    let year = i32::try_from(1970 + months.div_euclid(12)).ok()?;
    let month = u32::try_from(months.rem_euclid(12)).ok()? + 1;
    let date = NaiveDate::from_ymd_opt(year, month, 1)?.and_hms_opt(0, 0, 0)?;
    Some(Utc.from_utc_datetime(&date).timestamp_millis() as f64)
}

/// Every tick of `step` within `[lo, hi]`, at most `limit` of them.
fn ticks(step: Step, lo: f64, hi: f64, limit: usize) -> Vec<f64> {
    let mut out = Vec::new();
    match step {
        Step::Fixed(_) | Step::Weeks(_) => {
            let (origin, length) = match step {
                Step::Weeks(_) => (FIRST_MONDAY, step.length()),
                _ => (0.0, step.length()),
            };
            let mut t = origin + ((lo - origin) / length).ceil() * length;
            while t <= hi && out.len() < limit {
                out.push(t);
                t += length;
            }
        }
        Step::Months(n) => {
            let Some(start) = chrono::DateTime::from_timestamp_millis(lo as i64) else {
                return out;
            };
            let n = i64::from(n);
            let from = i64::from(start.year() - 1970) * 12 + i64::from(start.month0());
            let mut months = from.div_euclid(n) * n;
            while out.len() < limit {
                let Some(t) = month_start(months) else { break };
                if t > hi {
                    break;
                }
                if t >= lo {
                    out.push(t);
                }
                months += n;
            }
        }
    }
    out
}

/// The grid of a time axis: labelled ticks about every 100 points (`base_step_size` is the span of 8
/// points), with thinner lines at the next smaller round step.
pub(crate) fn spacer(input: GridInput) -> Vec<GridMark> {
    let (lo, hi) = input.bounds;
    if !(lo.is_finite() && hi.is_finite() && hi > lo && input.base_step_size > 0.0) {
        return Vec::new();
    }
    let major = step_at_least(input.base_step_size * 12.0);
    let minor = step_at_least(input.base_step_size);
    let mut marks: Vec<GridMark> = ticks(minor, lo, hi, 400)
        .into_iter()
        .map(|value| GridMark {
            value,
            step_size: minor.length(),
        })
        .collect();
    for value in ticks(major, lo, hi, 100) {
        match marks.iter_mut().find(|m| m.value == value) {
            Some(mark) => mark.step_size = major.length(),
            None => marks.push(GridMark {
                value,
                step_size: major.length(),
            }),
        }
    }
    marks
}

/// The label of a tick: the date for midnights of steps from a day up, else month, day and time (UTC),
/// so a tick off a round time never hides behind a date.
pub(crate) fn label(mark: GridMark) -> String {
    chrono::DateTime::from_timestamp_millis(mark.value as i64).map_or_else(String::new, |t| {
        if mark.step_size >= DAY && mark.value.rem_euclid(DAY) == 0.0 {
            t.format("%Y-%m-%d").to_string()
        } else {
            t.format("%m-%d %H:%M").to_string()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> f64 {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().timestamp_millis() as f64
    }

    /// The labelled marks for `lo..hi` drawn `width` points wide (egui_plot's 8-point base step).
    fn labelled(lo: &str, hi: &str, width: f64) -> Vec<String> {
        let (lo, hi) = (at(lo), at(hi));
        let marks = spacer(GridInput {
            bounds: (lo, hi),
            base_step_size: (hi - lo) / width * 8.0,
        });
        let top = marks.iter().map(|m| m.step_size).fold(0.0, f64::max);
        marks.into_iter().filter(|m| m.step_size == top).map(label).collect()
    }

    #[test]
    fn a_day_gets_ticks_on_whole_hours() {
        let labels = labelled("2019-03-01T16:53:00Z", "2019-03-02T06:40:00Z", 600.0);
        assert_eq!(labels.first().unwrap(), "03-01 18:00", "{labels:?}");
        assert!(labels.iter().all(|l| l.ends_with(":00")), "{labels:?}");
        assert!(labels.len() >= 3 && labels.len() <= 8, "{labels:?}");
    }

    #[test]
    fn a_month_gets_ticks_on_midnights_and_a_year_on_first_days_of_months() {
        let month = labelled("2019-03-01T00:00:00Z", "2019-03-31T23:00:00Z", 700.0);
        assert!(month.len() >= 3, "{month:?}");
        assert!(month.iter().all(|l| l.starts_with("2019-03-")), "{month:?}");
        let year = labelled("2019-01-10T00:00:00Z", "2019-12-20T00:00:00Z", 700.0);
        assert!(year.iter().all(|l| l.ends_with("-01")), "{year:?}");
        assert!(year.contains(&"2019-04-01".to_owned()), "{year:?}");
    }

    #[test]
    fn weeks_start_on_mondays_and_decades_on_new_years() {
        let weeks = ticks(
            Step::Weeks(1),
            at("2024-01-01T00:00:00Z"),
            at("2024-02-01T00:00:00Z"),
            10,
        );
        for t in &weeks {
            let day = chrono::DateTime::from_timestamp_millis(*t as i64).unwrap();
            assert_eq!(day.weekday(), chrono::Weekday::Mon, "{day}");
        }
        assert_eq!(weeks.len(), 5);
        let decade = ticks(
            Step::Months(120),
            at("1995-06-01T00:00:00Z"),
            at("2031-01-01T00:00:00Z"),
            10,
        );
        let years: Vec<String> = decade
            .iter()
            .map(|t| {
                chrono::DateTime::from_timestamp_millis(*t as i64)
                    .unwrap()
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .collect();
        assert_eq!(years, ["2000-01-01", "2010-01-01", "2020-01-01", "2030-01-01"]);
    }

    #[test]
    fn nothing_for_an_empty_or_broken_range() {
        for bounds in [(5.0, 5.0), (f64::NAN, 1.0), (2.0, 1.0)] {
            assert!(
                spacer(GridInput {
                    bounds,
                    base_step_size: 1.0
                })
                .is_empty()
            );
        }
    }
}
