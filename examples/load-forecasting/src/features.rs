//! The model inputs, exactly as the original EasyMLServe example builds them, shared by training and
//! serving so the two can never drift apart.
//!
//! For hour `k` of an hourly series (UTC), with `n(x) = (x - 55,492) / 10,015`:
//! `lag_0..lag_23` = `n(load[k - i])`, `weekend` = 1 if `k + 24 h` falls on a Saturday or Sunday,
//! `hour_sin`/`hour_cos` = sin/cos(2π · hour(k) / 24), `doy_sin`/`doy_cos` = sin/cos(2π · day_of_year(k) / 366)
//! (day of year counted from 1). The target is `n(load[k + 24])`.

use chrono::{DateTime, Datelike, Timelike};

/// Mean of the German load used to normalise (MW), from the OPSD data of the original example.
pub const LOAD_MEAN: f64 = 55_492.0;
/// Standard deviation used to normalise (MW).
pub const LOAD_STD: f64 = 10_015.0;
/// Hours of history one forecast needs.
pub const WINDOW: usize = 24;
/// Hours between the last input hour and the forecast hour.
pub const HORIZON: usize = 24;
/// Number of features per row: 24 lags, the weekend flag, and four calendar terms.
pub const N_FEATURES: usize = WINDOW + 5;
/// One hour in milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// Names of the features, in column order (for documentation and the reference script).
pub fn feature_names() -> Vec<String> {
    let mut names: Vec<String> = (0..WINDOW).map(|i| format!("lag_{i}")).collect();
    names.extend(["weekend", "hour_sin", "hour_cos", "doy_sin", "doy_cos"].map(str::to_owned));
    names
}

/// Load in MW to the normalised scale the models work in.
pub fn normalise(mw: f64) -> f64 {
    (mw - LOAD_MEAN) / LOAD_STD
}

/// Normalised value back to MW.
pub fn denormalise(value: f64) -> f64 {
    value * LOAD_STD + LOAD_MEAN
}

/// The calendar features of hour `epoch_ms` (UTC): weekend flag of the hour a day later, and the
/// hour-of-day and day-of-year terms of this hour.
pub fn calendar_features(epoch_ms: i64) -> [f64; 5] {
    let now = utc(epoch_ms);
    let target = utc(epoch_ms + HORIZON as i64 * HOUR_MS);
    let weekend = if target.weekday().num_days_from_monday() >= 5 {
        1.0
    } else {
        0.0
    };
    let hour = 2.0 * std::f64::consts::PI * f64::from(now.hour()) / 24.0;
    let day = 2.0 * std::f64::consts::PI * f64::from(now.ordinal()) / 366.0;
    [weekend, hour.sin(), hour.cos(), day.sin(), day.cos()]
}

fn utc(epoch_ms: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp_millis(epoch_ms).unwrap_or_default()
}

/// The feature row for hour `k`: `normalised` holds the normalised load of consecutive hours and
/// `k >= 23`; `epoch_ms` is the time of hour `k`.
pub fn feature_row(normalised: &[f64], k: usize, epoch_ms: i64) -> [f64; N_FEATURES] {
    let mut row = [0.0; N_FEATURES];
    for (lag, slot) in row[..WINDOW].iter_mut().enumerate() {
        *slot = normalised[k - lag];
    }
    row[WINDOW..].copy_from_slice(&calendar_features(epoch_ms));
    row
}

/// Features of every hour from the 24th on of a gap-free hourly series: one row per forecast, as a
/// flat row-major matrix of `(n - 23) x N_FEATURES`.
pub fn forecast_features(epoch_ms: &[i64], load_mw: &[f64]) -> Vec<f64> {
    let normalised: Vec<f64> = load_mw.iter().map(|v| normalise(*v)).collect();
    let mut flat = Vec::with_capacity(load_mw.len().saturating_sub(WINDOW - 1) * N_FEATURES);
    for (k, at) in epoch_ms.iter().enumerate().skip(WINDOW - 1) {
        flat.extend_from_slice(&feature_row(&normalised, k, *at));
    }
    flat
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAN_1_2019: i64 = 1_546_300_800_000; // Tuesday 2019-01-01T00:00:00Z

    #[test]
    fn normalising_round_trips() {
        assert_eq!(normalise(LOAD_MEAN), 0.0);
        assert_eq!(normalise(LOAD_MEAN + LOAD_STD), 1.0);
        assert!((denormalise(normalise(61_234.5)) - 61_234.5).abs() < 1e-9);
    }

    #[test]
    fn names_match_the_row_width() {
        assert_eq!(feature_names().len(), N_FEATURES);
        assert_eq!(feature_names()[24], "weekend");
    }

    #[test]
    fn calendar_terms_by_hand() {
        // Friday 2019-01-04 18:00 UTC: a day later is Saturday, so weekend = 1.
        let friday_18 = JAN_1_2019 + (3 * 24 + 18) * HOUR_MS;
        let [weekend, hs, hc, ds, dc] = calendar_features(friday_18);
        assert_eq!(weekend, 1.0);
        let angle = 2.0 * std::f64::consts::PI * 18.0 / 24.0; // 270°: sin = -1, cos = 0
        assert!((hs - angle.sin()).abs() < 1e-12 && (hs + 1.0).abs() < 1e-12);
        assert!(hc.abs() < 1e-12);
        let day = 2.0 * std::f64::consts::PI * 4.0 / 366.0; // 4 January is day 4
        assert!((ds - day.sin()).abs() < 1e-12);
        assert!((dc - day.cos()).abs() < 1e-12);
        // Sunday 2019-01-06 23:00: a day later is Monday.
        let sunday_23 = JAN_1_2019 + (5 * 24 + 23) * HOUR_MS;
        assert_eq!(calendar_features(sunday_23)[0], 0.0);
        // 31 December of a leap year is day 366: the angle closes the circle.
        let leap_end = 1_609_372_800_000; // 2020-12-31T00:00:00Z
        let [_, hs, hc, ds, dc] = calendar_features(leap_end);
        assert!(hs.abs() < 1e-12 && (hc - 1.0).abs() < 1e-12);
        assert!(ds.abs() < 1e-12 && (dc - 1.0).abs() < 1e-12);
    }

    #[test]
    fn lags_count_back_from_the_current_hour() {
        let load: Vec<f64> = (0..30).map(|i| LOAD_MEAN + LOAD_STD * f64::from(i)).collect();
        let times: Vec<i64> = (0..30).map(|i| JAN_1_2019 + i * HOUR_MS).collect();
        let flat = forecast_features(&times, &load);
        assert_eq!(flat.len(), 7 * N_FEATURES, "hours 23..=29 give seven rows");
        let first = &flat[..N_FEATURES];
        // Hour 23: lag_0 is hour 23 (normalised 23), lag_23 is hour 0.
        assert_eq!(first[0], 23.0);
        assert_eq!(first[1], 22.0);
        assert_eq!(first[23], 0.0);
        // Tuesday 23:00 + 24 h is a Wednesday.
        assert_eq!(first[24], 0.0);
        let last = &flat[6 * N_FEATURES..];
        assert_eq!(last[0], 29.0);
        assert_eq!(last[23], 6.0);
        // Hour 29 is 2019-01-02 05:00: hour 5, day 2.
        let angle = 2.0 * std::f64::consts::PI * 5.0 / 24.0;
        assert!((last[25] - angle.sin()).abs() < 1e-12);
        let day = 2.0 * std::f64::consts::PI * 2.0 / 366.0;
        assert!((last[28] - day.cos()).abs() < 1e-12);
    }
}
