//! Training: turns an hourly series into feature rows, splits them into the training years (before
//! 2019) and the test years, fits the three models on both cores with progress bars, scores them on the
//! test years, and saves them with a report.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Datelike;
use easymlserve::prelude::*;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::data::HourlySeries;
use crate::features::{HORIZON, N_FEATURES, WINDOW, denormalise, feature_row, normalise};
use crate::models::{FitSettings, Forest, Model, ModelKind, fit_svr};

/// Feature rows with their targets (normalised load 24 h later) and the time of each row's hour.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// Row-major features, `len() x N_FEATURES`.
    pub x: Vec<f64>,
    /// Targets.
    pub y: Vec<f64>,
    /// Time of the hour each row describes (ms since the epoch, UTC).
    pub times: Vec<i64>,
}

impl Dataset {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    fn push_from(&mut self, other: &Self, row: usize) {
        self.x
            .extend_from_slice(&other.x[row * N_FEATURES..(row + 1) * N_FEATURES]);
        self.y.push(other.y[row]);
        self.times.push(other.times[row]);
    }

    /// Every row of `self` for which `keep(time)` holds.
    pub fn filter(&self, keep: impl Fn(i64) -> bool) -> Self {
        let mut out = Self::default();
        for row in 0..self.len() {
            if keep(self.times[row]) {
                out.push_from(self, row);
            }
        }
        out
    }

    /// At most `max` rows, taken at an even stride from the first. The stride shares no factor with
    /// the 168 hours of a week, so the sample covers every hour of the day and every weekday.
    pub fn stride_sample(&self, max: usize) -> Self {
        self.every(sample_stride(self.len(), max))
    }

    /// Every `stride`-th row from the first.
    pub fn every(&self, stride: usize) -> Self {
        let mut out = Self::default();
        for row in (0..self.len()).step_by(stride) {
            out.push_from(self, row);
        }
        out
    }
}

/// Whether every `stride`-th hour still meets every hour of the day and every weekday: the stride
/// shares no factor with the 168 hours of a week.
pub fn stride_covers_week(stride: usize) -> bool {
    let (mut a, mut b) = (stride, 168);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a == 1
}

/// The smallest stride of at least `rows / max` that covers the week.
pub fn sample_stride(rows: usize, max: usize) -> usize {
    let mut stride = rows.div_ceil(max.max(1)).max(1);
    while !stride_covers_week(stride) {
        stride += 1;
    }
    stride
}

/// One row per hour `k` whose 24 hours of history and whose target hour `k + 24` all have values.
pub fn build_dataset(series: &HourlySeries) -> Dataset {
    let normalised: Vec<f64> = series.load.iter().map(|v| v.map_or(f64::NAN, normalise)).collect();
    let mut data = Dataset::default();
    for k in WINDOW - 1..normalised.len().saturating_sub(HORIZON) {
        let target = normalised[k + HORIZON];
        if target.is_nan() || normalised[k + 1 - WINDOW..=k].iter().any(|v| v.is_nan()) {
            continue;
        }
        let at = series.time_ms(k);
        data.x.extend_from_slice(&feature_row(&normalised, k, at));
        data.y.push(target);
        data.times.push(at);
    }
    data
}

/// The year of a time (UTC).
pub fn year_of(epoch_ms: i64) -> i32 {
    chrono::DateTime::from_timestamp_millis(epoch_ms).map_or(0, |t| t.year())
}

/// What to train and where to put it.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Folder the model files and the report go to.
    pub models_dir: PathBuf,
    /// The SVR is fitted on every `svr_stride`-th row of the training years (1 for all of them).
    pub svr_stride: usize,
    /// Rows of the training years the linear regression and forest use; 0 for all (tests use fewer).
    pub max_rows: usize,
    /// Hours before the first hour of this year train; the rest test.
    pub test_from_year: i32,
    /// Fit settings.
    pub fit: FitSettings,
    /// Draw progress bars on the terminal.
    pub progress: bool,
}

impl TrainOptions {
    /// The settings of the shipped demo, saving into `models_dir`.
    pub fn new(models_dir: impl Into<PathBuf>) -> Self {
        Self {
            models_dir: models_dir.into(),
            svr_stride: DEFAULT_SVR_STRIDE,
            max_rows: 0,
            test_from_year: 2019,
            fit: FitSettings::default(),
            progress: true,
        }
    }
}

/// The SVR is fitted on every 5th hour of the training years by default (7,009 of 35,041 rows of the
/// shipped data): smartcore's SMO solver grows with the square of the rows, so the full set would take
/// about half an hour and gigabytes of kernel cache. The README reports what this costs in accuracy.
pub const DEFAULT_SVR_STRIDE: usize = 5;

/// How one model did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelReport {
    /// `LR`, `SVR` or `RF`.
    pub model: String,
    /// Rows it was fitted on.
    pub train_rows: usize,
    /// Seconds the fit took.
    pub fit_seconds: f64,
    /// Mean absolute error on the test years, MW.
    pub mae_mw: f64,
    /// Mean absolute percentage error on the test years, %.
    pub mape_percent: f64,
    /// Mean absolute error on the normalised scale (as the original script printed it).
    pub mae_normalised: f64,
    /// Size of the model file in bytes.
    pub file_bytes: u64,
}

/// What a training run did; saved as `report.json` next to the models.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainReport {
    /// Rows of the training years.
    pub train_rows: usize,
    /// Rows of the test years.
    pub test_rows: usize,
    /// Hours of the input without a value.
    pub missing_hours: usize,
    /// Wall-clock seconds of the whole run.
    pub total_seconds: f64,
    /// One entry per model.
    pub models: Vec<ModelReport>,
}

/// MAE (MW), MAPE (%) and MAE (normalised) of normalised predictions against normalised truth.
pub fn scores(truth: &[f64], predicted: &[f64]) -> (f64, f64, f64) {
    let n = truth.len().max(1) as f64;
    let mut abs_mw = 0.0;
    let mut pct = 0.0;
    let mut abs_norm = 0.0;
    for (t, p) in truth.iter().zip(predicted) {
        let (tm, pm) = (denormalise(*t), denormalise(*p));
        abs_mw += (tm - pm).abs();
        pct += ((tm - pm) / tm).abs();
        abs_norm += (t - p).abs();
    }
    (abs_mw / n, 100.0 * pct / n, abs_norm / n)
}

fn bar(multi: &MultiProgress, prefix: &str, len: Option<u64>) -> ProgressBar {
    let bar = match len {
        Some(len) => multi.add(ProgressBar::new(len)),
        None => multi.add(ProgressBar::new_spinner()),
    };
    let template = if len.is_some() {
        "{prefix:>4} [{bar:30}] {pos}/{len} trees {msg} ({elapsed})"
    } else {
        "{prefix:>4} {spinner} {msg} ({elapsed})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(prefix.to_owned());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Trains all three models on `series`, scores them on the test years, and saves them.
pub fn train(series: &HourlySeries, options: &TrainOptions) -> anyhow::Result<TrainReport> {
    let started = Instant::now();
    let multi = MultiProgress::new();
    if !options.progress {
        multi.set_draw_target(ProgressDrawTarget::hidden());
    }
    let split_ms = chrono::NaiveDate::from_ymd_opt(options.test_from_year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .context("test year")?
        .and_utc()
        .timestamp_millis();
    let all = build_dataset(series);
    let mut train_set = all.filter(|t| t < split_ms);
    if options.max_rows > 0 {
        train_set = train_set.stride_sample(options.max_rows);
    }
    let test_set = all.filter(|t| t >= split_ms);
    anyhow::ensure!(
        train_set.len() >= 2 * N_FEATURES,
        "only {} training rows before {}; the data must cover at least a few days before the test years",
        train_set.len(),
        options.test_from_year
    );
    anyhow::ensure!(
        !test_set.is_empty(),
        "no rows from {} on to test with; the data must reach into the test years",
        options.test_from_year
    );
    let stride = options.svr_stride.max(1);
    anyhow::ensure!(
        stride_covers_week(stride),
        "the SVR stride {stride} shares a factor with the 168 hours of a week, so its sample would miss hours \
         of the day or weekdays; use 1, 5, 11, 13, 17, ..."
    );
    let svr_set = train_set.every(stride);
    let settings = &options.fit;
    let parts = Forest::part_count(settings.trees);
    let lr_bar = bar(&multi, "LR", None);
    let svr_bar = bar(&multi, "SVR", None);
    let rf_bar = bar(&multi, "RF", Some(settings.trees as u64));
    lr_bar.set_message(format!("waiting ({} rows)", train_set.len()));
    svr_bar.set_message(format!("waiting ({} rows)", svr_set.len()));
    rf_bar.set_message(format!("({} rows)", train_set.len()));

    let next_part = AtomicUsize::new(0);
    let forest_parts = Mutex::new(Vec::new());
    let grow = || -> anyhow::Result<()> {
        loop {
            let index = next_part.fetch_add(1, Ordering::SeqCst);
            if index >= parts {
                return Ok(());
            }
            let part = Forest::fit_part(&train_set.x, &train_set.y, settings, index)?;
            rf_bar.inc(part.0 as u64);
            forest_parts
                .lock()
                .map_err(|_| anyhow::anyhow!("a training thread panicked"))?
                .push((index, part));
        }
    };
    let fitting = Instant::now();
    let (lr, svr) = std::thread::scope(|scope| -> anyhow::Result<_> {
        let helper = scope.spawn(grow);
        lr_bar.set_message(format!("fitting on {} rows", train_set.len()));
        let t = Instant::now();
        let lr = Model::fit(ModelKind::Lr, &train_set.x, &train_set.y, settings)?;
        let lr_seconds = t.elapsed().as_secs_f64();
        lr_bar.finish_with_message(format!("fitted on {} rows in {lr_seconds:.1} s", train_set.len()));
        svr_bar.set_message(format!("fitting on {} rows", svr_set.len()));
        let t = Instant::now();
        let (svr, _) = fit_svr(&svr_set.x, &svr_set.y, settings)?;
        let svr_seconds = t.elapsed().as_secs_f64();
        svr_bar.finish_with_message(format!(
            "fitted on {} rows in {svr_seconds:.1} s, {} support vectors",
            svr_set.len(),
            svr.support_vectors()
        ));
        grow()?;
        helper
            .join()
            .map_err(|_| anyhow::anyhow!("the forest training thread panicked"))??;
        Ok(((lr, lr_seconds), (Model::Svr(svr), svr_seconds)))
    })?;
    let mut grown = forest_parts
        .into_inner()
        .map_err(|_| anyhow::anyhow!("a training thread panicked"))?;
    grown.sort_by_key(|(index, _)| *index);
    let forest = Model::Forest(Forest::new(grown.into_iter().map(|(_, part)| part).collect()));
    // The forest grows on one core beside the other models, then on both: report the wall time.
    let rf_seconds = fitting.elapsed().as_secs_f64();
    rf_bar.finish_with_message(format!("fitted on {} rows", train_set.len()));

    let mut reports = Vec::new();
    let fitted = [
        (lr.0, lr.1, train_set.len()),
        (svr.0, svr.1, svr_set.len()),
        (forest, rf_seconds, train_set.len()),
    ];
    for (model, seconds, rows) in fitted {
        let predicted = model.predict(&test_set.x)?;
        let (mae_mw, mape_percent, mae_normalised) = scores(&test_set.y, &predicted);
        let (_, file_bytes) = model.save(&options.models_dir)?;
        reports.push(ModelReport {
            model: model.kind().name().to_owned(),
            train_rows: rows,
            fit_seconds: seconds,
            mae_mw,
            mape_percent,
            mae_normalised,
            file_bytes,
        });
    }
    let report = TrainReport {
        train_rows: train_set.len(),
        test_rows: test_set.len(),
        missing_hours: series.missing().len(),
        total_seconds: started.elapsed().as_secs_f64(),
        models: reports,
    };
    let path = options.models_dir.join("report.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(report)
}

/// Small models for tests and quick demos: seven weeks of the shipped synthetic data around New Year
/// 2019, a 10-tree forest; saved in `models_dir`. Trains in seconds.
pub fn small_models(models_dir: &Path) -> anyhow::Result<TrainReport> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let all = crate::data::read_series(&root.join("data/german-load-synthetic-2015-2020.csv"))?;
    let new_year_2019 = ((1_546_300_800_000 - all.start_ms) / 3_600_000) as usize;
    let start = new_year_2019 - 24 * 42; // six weeks before 2019, one week after
    let series = HourlySeries {
        start_ms: all.time_ms(start),
        load: all.load[start..start + 24 * 49].to_vec(),
    };
    let mut options = TrainOptions::new(models_dir);
    options.fit = FitSettings {
        trees: 10,
        ..FitSettings::default()
    };
    options.progress = false;
    train(&series, &options)
}

/// Whether all three model files exist in `dir`.
pub fn models_present(dir: &Path) -> bool {
    ModelKind::ALL.iter().all(|k| dir.join(k.file_name()).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::HOUR_MS;

    #[test]
    fn strides_cover_every_hour_and_weekday() {
        assert!(stride_covers_week(1) && stride_covers_week(5) && stride_covers_week(11));
        assert!(!stride_covers_week(4) && !stride_covers_week(21) && !stride_covers_week(24));
        assert_eq!(
            sample_stride(35_041, 5_000),
            11,
            "8 would only ever meet three hours of the day"
        );
        assert_eq!(sample_stride(100, 1_000), 1);
    }

    #[test]
    fn rows_need_a_full_window_and_target() {
        let series = HourlySeries {
            start_ms: 1_546_300_800_000,
            load: (0..60)
                .map(|i| if i == 30 { None } else { Some(50_000.0 + f64::from(i)) })
                .collect(),
        };
        let data = build_dataset(&series);
        // Hours 23..=35 have a target (k + 24 < 60); those whose window k-23..=k holds the missing
        // hour 30 are left out (k = 30..=35); no target is hour 30 (that would be k = 6).
        let kept: Vec<i64> = data.times.iter().map(|t| (t - series.start_ms) / HOUR_MS).collect();
        assert_eq!(kept, vec![23, 24, 25, 26, 27, 28, 29]);
        assert_eq!(data.y[0], normalise(50_047.0));
        assert_eq!(data.x[0], normalise(50_023.0), "lag 0 is the hour itself");
    }

    #[test]
    fn scores_in_megawatts_and_percent() {
        let truth = [normalise(50_000.0), normalise(40_000.0)];
        let predicted = [normalise(51_000.0), normalise(39_000.0)];
        let (mae, mape, mae_norm) = scores(&truth, &predicted);
        assert!((mae - 1_000.0).abs() < 1e-6);
        assert!((mape - 100.0 * (0.02 + 0.025) / 2.0).abs() < 1e-9);
        assert!((mae_norm - 1_000.0 / crate::features::LOAD_STD).abs() < 1e-12);
    }
}
