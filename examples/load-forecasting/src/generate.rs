//! The synthetic German load series (2015-2020, hourly, UTC) that stands in for the OPSD data, which
//! cannot be downloaded here. Built from real ingredients: BDEW standard load profiles for the daily,
//! weekly and seasonal shape, the DWD test reference year for heating, German public holidays, and
//! seeded noise; scaled to the OPSD mean and spread. Deterministic: the same files every run.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Timelike};

use crate::data::iso;
use crate::features::HOUR_MS;

/// First hour of the series (UTC).
pub const FIRST_YEAR: i32 = 2015;
/// Last year of the series.
pub const LAST_YEAR: i32 = 2020;
/// Target mean (MW) of the generated series.
pub const TARGET_MEAN: f64 = 55_500.0;
/// Target standard deviation (MW).
pub const TARGET_STD: f64 = 10_000.0;

/// Shares of the national load: households (BDEW h0), commerce (g0), industry (a flat band).
const SHARE_HOUSEHOLDS: f64 = 0.27;
const SHARE_COMMERCE: f64 = 0.28;
const SHARE_INDUSTRY: f64 = 0.45;

/// The BDEW profiles by season (winter, summer, transition), day (Monday..Sunday) and hour, each
/// normalised to a mean of 1.
struct Profiles {
    households: [[[f64; 24]; 7]; 3],
    commerce: [[[f64; 24]; 7]; 3],
}

/// Reads `selp_series.csv`: 21 typical days of 96 quarter hours, columns `period`, `weekday` (1 =
/// Monday), `h0`, `g0`, ...; quarter hours are summed to hours.
fn read_profiles(path: &Path) -> anyhow::Result<Profiles> {
    let mut csv = csv::Reader::from_path(path).with_context(|| format!("cannot open {}", path.display()))?;
    let header: Vec<String> = csv.headers()?.iter().map(str::to_owned).collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .with_context(|| format!("{} has no `{name}` column", path.display()))
    };
    let (period, weekday, h0, g0) = (column("period")?, column("weekday")?, column("h0")?, column("g0")?);
    let mut households = [[[0.0; 24]; 7]; 3];
    let mut commerce = [[[0.0; 24]; 7]; 3];
    let mut seen = 0usize;
    for (index, record) in csv.records().enumerate() {
        let record = record?;
        let line = index + 2;
        let season = match record.get(period) {
            Some("winter") => 0,
            Some("summer") => 1,
            Some("transition") => 2,
            other => bail!("{} line {line}: unknown period {other:?}", path.display()),
        };
        let day: usize = record.get(weekday).unwrap_or("").parse().unwrap_or(0);
        if !(1..=7).contains(&day) {
            bail!("{} line {line}: weekday must be 1 to 7", path.display());
        }
        let time = record.get(0).unwrap_or("");
        let hour: usize = time.get(11..13).and_then(|h| h.parse().ok()).unwrap_or(99);
        if hour > 23 {
            bail!("{} line {line}: `{time}` has no hour", path.display());
        }
        let number = |col: usize| -> anyhow::Result<f64> {
            let cell = record.get(col).unwrap_or("");
            cell.parse()
                .with_context(|| format!("{} line {line}: `{cell}` is not a number", path.display()))
        };
        households[season][day - 1][hour] += number(h0)?;
        commerce[season][day - 1][hour] += number(g0)?;
        seen += 1;
    }
    if seen != 3 * 7 * 96 {
        bail!("{}: expected 2016 quarter hours, found {seen}", path.display());
    }
    for table in [&mut households, &mut commerce] {
        let mean = table.iter().flatten().flatten().sum::<f64>() / (3.0 * 7.0 * 24.0);
        table.iter_mut().flatten().flatten().for_each(|v| *v /= mean);
    }
    Ok(Profiles { households, commerce })
}

/// Reads the air temperature (column `t`) of the DWD test reference year: 8760 hours, CET, rows after
/// the `***` line with month, day, hour (1..24) in columns 3-5 and `t` in column 9.
fn read_temperatures(path: &Path) -> anyhow::Result<Vec<f64>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot open {}", path.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    let body = text
        .split_once("***")
        .with_context(|| format!("{}: no `***` line before the data", path.display()))?
        .1;
    let mut temperatures = Vec::with_capacity(8760);
    for (index, line) in body.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let t = cells
            .get(8)
            .and_then(|c| c.parse::<f64>().ok())
            .with_context(|| format!("{}: data row {} has no temperature", path.display(), index + 1))?;
        temperatures.push(t);
    }
    if temperatures.len() != 8760 {
        bail!("{}: expected 8760 hours, found {}", path.display(), temperatures.len());
    }
    Ok(temperatures)
}

/// SplitMix64: a tiny seeded generator, so the series never depends on a crate's RNG version.
struct Noise(u64);

impl Noise {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// A standard normal draw (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Easter Sunday of `year` (Gregorian computus).
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or_default()
}

/// How a day is treated: the profile day to use and how much of the Sunday shape to mix in
/// (1 for nationwide holidays, a fraction for holidays of some states and the days around Christmas).
fn day_kind(date: NaiveDate) -> (usize, f64) {
    let weekday = date.weekday().num_days_from_monday() as usize;
    let easter = easter(date.year());
    let offset = (date - easter).num_days();
    let (month, day) = (date.month(), date.day());
    let nationwide = matches!((month, day), (1, 1) | (5, 1) | (10, 3) | (12, 25) | (12, 26))
        || matches!(offset, -2 | 1 | 39 | 50)
        || (date.year() == 2017 && (month, day) == (10, 31));
    if nationwide {
        return (6, 1.0);
    }
    let regional = matches!((month, day), (1, 6) | (8, 15) | (11, 1)) || offset == 60 || (month, day) == (10, 31);
    if regional {
        return (weekday, 0.4);
    }
    if month == 12 && (day == 24 || day == 31) {
        return (5, 0.5);
    }
    if month == 12 && day >= 27 {
        return (weekday, 0.5);
    }
    (weekday, 0.0)
}

/// BDEW season of a date: winter 1 Nov - 20 Mar, summer 15 May - 14 Sep, transition otherwise.
fn season(date: NaiveDate) -> usize {
    let md = date.month() * 100 + date.day();
    if !(321..1101).contains(&md) {
        0
    } else if (515..=914).contains(&md) {
        1
    } else {
        2
    }
}

/// German legal time of a UTC instant: CET, or CEST from the last Sunday of March to the last Sunday
/// of October, switching at 01:00 UTC.
fn german_local(utc: NaiveDateTime) -> NaiveDateTime {
    let last_sunday = |month: u32| {
        let first_next = NaiveDate::from_ymd_opt(utc.year(), month + 1, 1).unwrap_or_default();
        let back = (first_next.weekday().num_days_from_sunday() + 6) % 7 + 1;
        (first_next - Duration::days(i64::from(back)))
            .and_hms_opt(1, 0, 0)
            .unwrap_or_default()
    };
    let summer = utc >= last_sunday(3) && utc < last_sunday(10);
    utc + Duration::hours(if summer { 2 } else { 1 })
}

/// The BDEW dynamisation factor of the household profile for day-of-year `d`.
fn household_dynamics(d: f64) -> f64 {
    -3.92e-10 * d.powi(4) + 3.2e-7 * d.powi(3) - 7.02e-5 * d.powi(2) + 2.1e-3 * d + 1.24
}

/// Level of the industrial band at a local hour of a day kind: lower at night and on weekends.
fn industry(weekday: usize, hour: u32) -> f64 {
    let daytime = if (6..22).contains(&hour) { 1.0 } else { 0.88 };
    let day = match weekday {
        5 => 0.78,
        6 => 0.68,
        _ => 1.0,
    };
    daytime * day
}

/// Builds the series: one load value (MW) per UTC hour of 2015-2020.
pub fn synthesize(ingredients: &Path) -> anyhow::Result<(i64, Vec<f64>)> {
    let profiles = read_profiles(&ingredients.join("selp_series.csv"))?;
    let temperature = read_temperatures(&ingredients.join("TRY2010_04_Jahr.dat"))?;
    let start = NaiveDate::from_ymd_opt(FIRST_YEAR, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .context("start date")?;
    let end = NaiveDate::from_ymd_opt(LAST_YEAR + 1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .context("end date")?;
    let hours = (end - start).num_hours() as usize;
    let mut noise = Noise(0x10AD_2015);
    let mut weather_anomaly = 0.0; // daily temperature anomaly (K), AR(1) from day to day
    let mut daily_level = 0.0; // daily level shift (fraction), AR(1)
    let mut hourly = 0.0; // hourly noise (fraction), AR(1)
    let mut raw = Vec::with_capacity(hours);
    let mut last_day = None;
    for h in 0..hours {
        let utc = start + Duration::hours(h as i64);
        let local = german_local(utc);
        let date = local.date();
        if last_day != Some(date) {
            weather_anomaly = 0.8 * weather_anomaly + 1.6 * noise.normal();
            daily_level = 0.6 * daily_level + 0.012 * noise.normal();
            last_day = Some(date);
        }
        hourly = 0.85 * hourly + 0.006 * noise.normal();
        let (weekday, sunday_share) = day_kind(date);
        let s = season(date);
        let hour = local.hour() as usize;
        let blend = |table: &[[[f64; 24]; 7]; 3]| {
            (1.0 - sunday_share) * table[s][weekday][hour] + sunday_share * table[s][6][hour]
        };
        let doy = date.ordinal().min(365);
        let households = blend(&profiles.households) * household_dynamics(f64::from(doy));
        let commerce = blend(&profiles.commerce);
        let band = (1.0 - sunday_share) * industry(weekday, local.hour()) + sunday_share * industry(6, local.hour());
        // Temperature in CET of the reference year, shifted by this year's weather.
        let cet = utc + Duration::hours(1);
        let try_hour = ((cet.ordinal().min(365) - 1) * 24 + cet.hour()) as usize;
        let t = temperature[try_hour] + weather_anomaly;
        let heating = 0.006 * (15.0 - t).max(0.0);
        let cooling = 0.004 * (t - 22.0).max(0.0);
        let year_trend = match utc.year() {
            2015 => 1.0,
            2016 => 1.004,
            2017 => 1.008,
            2018 => 1.003,
            2019 => 0.99,
            _ => 0.975,
        };
        let lockdown = if utc.year() == 2020 && (3..=5).contains(&utc.month()) && !(utc.month() == 3 && utc.day() < 16)
        {
            0.94
        } else {
            1.0
        };
        let mix = SHARE_HOUSEHOLDS * households + SHARE_COMMERCE * commerce + SHARE_INDUSTRY * band;
        raw.push((mix + heating + cooling) * year_trend * lockdown * (1.0 + daily_level + hourly));
    }
    let n = raw.len() as f64;
    let mean = raw.iter().sum::<f64>() / n;
    let std = (raw.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let load = raw
        .iter()
        .map(|v| (TARGET_MEAN + TARGET_STD * (v - mean) / std).round())
        .collect();
    Ok((start.and_utc().timestamp_millis(), load))
}

/// Writes the series as `time,energy` CSV text for the hours `[from, to)` (indices into `load`).
pub fn to_csv(start_ms: i64, load: &[f64], from: usize, to: usize) -> String {
    let mut text = String::with_capacity((to - from) * 28 + 12);
    text.push_str("time,energy\n");
    for (index, value) in load.iter().enumerate().take(to).skip(from) {
        let _ = writeln!(text, "{},{value}", iso(start_ms + index as i64 * HOUR_MS));
    }
    text
}

/// Generates the shipped files into `example_dir`: `data/german-load-synthetic-2015-2020.csv` and one
/// request file per month of the test years, `samples/YYYY-MM.csv`. Returns the paths written.
pub fn generate(example_dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let (start_ms, load) = synthesize(&example_dir.join("data/ingredients"))?;
    let mut written = Vec::new();
    let data = example_dir.join("data/german-load-synthetic-2015-2020.csv");
    std::fs::write(&data, to_csv(start_ms, &load, 0, load.len()))
        .with_context(|| format!("cannot write {}", data.display()))?;
    written.push(data);
    let samples = example_dir.join("samples");
    std::fs::create_dir_all(&samples)?;
    let index_of = |year: i32, month: u32| -> usize {
        let at = NaiveDate::from_ymd_opt(year, month, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc().timestamp_millis())
            .unwrap_or(start_ms);
        ((at - start_ms) / HOUR_MS) as usize
    };
    for year in 2019..=LAST_YEAR {
        for month in 1..=12u32 {
            let from = index_of(year, month);
            let to = if month == 12 {
                index_of(year + 1, 1)
            } else {
                index_of(year, month + 1)
            };
            let path = samples.join(format!("{year}-{month:02}.csv"));
            std::fs::write(&path, to_csv(start_ms, &load, from, to.min(load.len())))
                .with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_dates() {
        for (year, month, day) in [(2015, 4, 5), (2016, 3, 27), (2019, 4, 21), (2020, 4, 12)] {
            assert_eq!(easter(year), NaiveDate::from_ymd_opt(year, month, day).unwrap());
        }
    }

    #[test]
    fn summer_time_switches_on_the_last_sundays() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        assert_eq!(german_local(at("2019-03-31 00:59")), at("2019-03-31 01:59"));
        assert_eq!(german_local(at("2019-03-31 01:00")), at("2019-03-31 03:00"));
        assert_eq!(german_local(at("2019-10-27 00:59")), at("2019-10-27 02:59"));
        assert_eq!(german_local(at("2019-10-27 01:00")), at("2019-10-27 02:00"));
    }

    #[test]
    fn holidays_use_the_sunday_shape() {
        let day = |m, d| NaiveDate::from_ymd_opt(2019, m, d).unwrap();
        assert_eq!(day_kind(day(12, 25)), (6, 1.0));
        assert_eq!(day_kind(day(4, 19)), (6, 1.0), "Good Friday 2019");
        assert_eq!(day_kind(day(6, 10)), (6, 1.0), "Whit Monday 2019");
        assert_eq!(day_kind(day(7, 3)), (2, 0.0), "an ordinary Wednesday");
    }
}
