//! Training data: reads the Open Power System Data 60-minute single-index CSV (`utc_timestamp`,
//! `DE_load_actual_entsoe_transparency`) or a plain `time,energy` CSV into one gap-free hourly series,
//! keeping every missing hour visible so training can report it instead of dropping it silently.

use std::path::Path;

use anyhow::{Context, bail};

use crate::features::HOUR_MS;
use crate::stamp::Stamp;

/// Column names we read, as (time, load) pairs, in order of preference.
const LAYOUTS: [(&str, &str); 2] = [
    ("utc_timestamp", "DE_load_actual_entsoe_transparency"),
    ("time", "energy"),
];

/// An hourly load series from `start_ms` on; `None` where the file has no value for an hour (an empty
/// or `NaN` cell, or a row that is not there at all).
#[derive(Debug, Clone, PartialEq)]
pub struct HourlySeries {
    /// Time of the first hour, milliseconds since the epoch (UTC).
    pub start_ms: i64,
    /// Load in MW, one entry per hour.
    pub load: Vec<Option<f64>>,
}

impl HourlySeries {
    /// Time of hour `index`.
    pub fn time_ms(&self, index: usize) -> i64 {
        self.start_ms + index as i64 * HOUR_MS
    }

    /// Indices of the hours without a value.
    pub fn missing(&self) -> Vec<usize> {
        (0..self.load.len()).filter(|i| self.load[*i].is_none()).collect()
    }

    /// A one-line summary of the missing hours for the user, or `None` if there are none.
    pub fn missing_report(&self) -> Option<String> {
        let missing = self.missing();
        if missing.is_empty() {
            return None;
        }
        let shown: Vec<String> = missing.iter().take(5).map(|i| iso(self.time_ms(*i))).collect();
        let more = if missing.len() > 5 {
            format!(" and {} more", missing.len() - 5)
        } else {
            String::new()
        };
        Some(format!(
            "{} of {} hours have no load value ({}{more}); every training row whose 48-hour window touches one is left out",
            missing.len(),
            self.load.len(),
            shown.join(", ")
        ))
    }
}

/// `epoch_ms` as `2019-01-01T00:00:00Z`.
pub fn iso(epoch_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(epoch_ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| epoch_ms.to_string())
}

/// Reads a training CSV from `path` (OPSD single-index or `time,energy`).
pub fn read_series(path: &Path) -> anyhow::Result<HourlySeries> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    parse_series(file).with_context(|| format!("cannot read {}", path.display()))
}

/// Parses a training CSV (OPSD single-index or `time,energy`).
pub fn parse_series(reader: impl std::io::Read) -> anyhow::Result<HourlySeries> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let header: Vec<String> = csv.headers()?.iter().map(|h| h.trim().to_owned()).collect();
    let (time_col, load_col) = LAYOUTS
        .iter()
        .find_map(|(time, load)| {
            let t = header.iter().position(|h| h == time)?;
            let l = header.iter().position(|h| h == load)?;
            Some((t, l))
        })
        .with_context(|| {
            format!(
                "the header needs `utc_timestamp` and `DE_load_actual_entsoe_transparency` (OPSD) or `time` and `energy`; found {}",
                header.join(",")
            )
        })?;
    let mut rows: Vec<(i64, Option<f64>)> = Vec::new();
    for (index, record) in csv.records().enumerate() {
        let line = index + 2;
        let record = record.with_context(|| format!("line {line}"))?;
        let time_text = record.get(time_col).unwrap_or("").trim();
        let stamp =
            Stamp::parse(time_text).with_context(|| format!("line {line}: `{time_text}` is not a date and time"))?;
        let cell = record.get(load_col).unwrap_or("").trim();
        let value = if cell.is_empty() || cell.eq_ignore_ascii_case("nan") {
            None
        } else {
            let v: f64 = cell
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .with_context(|| format!("line {line}: load `{cell}` is not a number"))?;
            Some(v)
        };
        if let Some((previous, _)) = rows.last() {
            if stamp.epoch_ms <= *previous {
                bail!("line {line}: `{time_text}` is not after the previous row; rows must be in time order");
            }
            if (stamp.epoch_ms - previous) % HOUR_MS != 0 {
                bail!("line {line}: `{time_text}` is not a whole number of hours after the previous row");
            }
        }
        rows.push((stamp.epoch_ms, value));
    }
    let Some((start_ms, _)) = rows.first().copied() else {
        bail!("the file has a header but no rows");
    };
    let Some((end_ms, _)) = rows.last().copied() else {
        bail!("the file has a header but no rows");
    };
    let mut load = vec![None; ((end_ms - start_ms) / HOUR_MS) as usize + 1];
    for (at, value) in rows {
        load[((at - start_ms) / HOUR_MS) as usize] = value;
    }
    Ok(HourlySeries { start_ms, load })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_opsd_layout_and_reports_gaps() {
        let text = "utc_timestamp,cet_cest_timestamp,DE_load_actual_entsoe_transparency,DE_solar_generation_actual\n\
            2015-01-01T00:00:00Z,2015-01-01T01:00:00+0100,41151.0,0\n\
            2015-01-01T01:00:00Z,2015-01-01T02:00:00+0100,,0\n\
            2015-01-01T03:00:00Z,2015-01-01T04:00:00+0100,39000,0\n";
        let series = parse_series(text.as_bytes()).unwrap();
        assert_eq!(series.start_ms, 1_420_070_400_000);
        assert_eq!(series.load, vec![Some(41151.0), None, None, Some(39000.0)]);
        assert_eq!(series.missing(), vec![1, 2]);
        let report = series.missing_report().unwrap();
        assert!(report.starts_with("2 of 4 hours have no load value (2015-01-01T01:00:00Z, 2015-01-01T02:00:00Z)"));
    }

    #[test]
    fn reads_plain_time_energy() {
        let text = "time,energy\n2019-01-01 00:00:00,50000\n2019-01-01 01:00:00,NaN\n";
        let series = parse_series(text.as_bytes()).unwrap();
        assert_eq!(series.load, vec![Some(50000.0), None]);
    }

    #[test]
    fn errors_name_the_line() {
        let unknown = parse_series("a,b\n1,2\n".as_bytes()).unwrap_err();
        assert!(format!("{unknown:#}").contains("found a,b"), "{unknown:#}");
        let unsorted = "time,energy\n2019-01-01 01:00:00,1\n2019-01-01 00:00:00,2\n";
        let err = parse_series(unsorted.as_bytes()).unwrap_err();
        assert!(format!("{err:#}").contains("line 3"), "{err:#}");
        let bad = "time,energy\n2019-01-01 01:00:00,lots\n";
        let err = parse_series(bad.as_bytes()).unwrap_err();
        assert!(
            format!("{err:#}").contains("line 2: load `lots` is not a number"),
            "{err:#}"
        );
    }
}
