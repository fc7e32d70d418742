//! The forecasting service, wire-compatible with the original EasyMLServe example: `{"models", "time",
//! "energy"}` in, `{"forecasts": [{"model", "time", "energy"}]}` out, one forecast per input hour from
//! the 24th on, stamped 24 hours later in the input's own time format. Input the original answered
//! with 500 is refused here with 422 naming the field. A long request (a year of hours and more)
//! reports its progress per model and piece of hours, and stops between pieces when canceled.

use std::path::PathBuf;
use std::sync::Mutex;

use easymlserve::core::Capabilities;
use easymlserve::prelude::*;

use crate::features::{HOUR_MS, N_FEATURES, WINDOW, denormalise, forecast_features};
use crate::models::{Model, ModelKind};
use crate::stamp::Stamp;

/// The most hours one request may hold (about eleven years).
pub const MAX_HOURS: usize = 100_000;

/// Hours each model forecasts between two progress reports and cancellation checks: about 0.2 s of
/// the SVR, so a month is one piece and the longest request about 25 per model.
pub const CHUNK_HOURS: usize = 4096;

/// An hourly load series and the models to forecast it with. In the generated GUI one CSV upload
/// (columns time,energy) fills `time` and `energy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("x-easymlserve-widget" = {
    "widget": "time_series_csv", "fills": ["time", "energy"], "label": "Load CSV",
    "description": "Columns time,energy: consecutive hours, load in MW."
}))]
pub struct ForecastRequest {
    /// The models to run: any of `LR` (linear regression), `SVR` (support vector regression) and `RF`
    /// (random forest), each at most once.
    #[schemars(length(min = 1, max = 3))]
    #[schemars(extend("x-easymlserve-widget" = {"widget": "checkboxes", "default": ["LR", "SVR", "RF"]}))]
    pub models: Vec<ModelKind>,
    /// Timestamps of consecutive hours, oldest first, for example `2019-01-01T00:00:00Z` or
    /// `2019-01-01 00:00:00` (read as UTC). At least 24.
    #[schemars(length(min = 24, max = 100000))]
    pub time: Vec<String>,
    /// The load of each hour in MW, as many values as timestamps.
    #[schemars(length(max = 100000))]
    pub energy: Vec<Option<f64>>,
}

/// One model's forecasts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Forecast {
    /// The model.
    pub model: ModelKind,
    /// The hour each forecast is for: an input hour plus 24 hours, in the input's format.
    pub time: Vec<String>,
    /// The forecast load in MW.
    pub energy: Vec<f64>,
}

/// Day-ahead forecasts, one entry per requested model, in the requested order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ForecastResponse {
    /// One entry per model.
    pub forecasts: Vec<Forecast>,
}

/// A request that passed every check: parsed timestamps of consecutive hours and their loads.
#[derive(Debug)]
pub struct ValidRequest {
    /// The models, each once.
    pub models: Vec<ModelKind>,
    /// Parsed timestamps.
    pub stamps: Vec<Stamp>,
    /// Load in MW.
    pub energy: Vec<f64>,
}

impl ValidRequest {
    /// Checks `request`; the error names the first field that is wrong and why.
    pub fn parse(request: ForecastRequest) -> Result<Self, ServiceError> {
        let ForecastRequest { models, time, energy } = request;
        if time.len() < WINDOW {
            return Err(ServiceError::invalid_field(
                "time",
                format!("needs at least {WINDOW} hours to forecast from, got {}", time.len()),
            ));
        }
        if energy.len() != time.len() {
            return Err(ServiceError::invalid_field(
                "energy",
                format!(
                    "has {} values but `time` has {} timestamps; give one load value per hour",
                    energy.len(),
                    time.len()
                ),
            ));
        }
        if models.is_empty() {
            return Err(ServiceError::invalid_field(
                "models",
                "choose at least one of LR, SVR, RF",
            ));
        }
        for (i, model) in models.iter().enumerate() {
            if models[..i].contains(model) {
                return Err(ServiceError::invalid_field(
                    format!("models[{i}]"),
                    format!("`{}` is listed twice", model.name()),
                ));
            }
        }
        let stamps = time
            .iter()
            .enumerate()
            .map(|(i, text)| {
                Stamp::parse(text).ok_or_else(|| {
                    ServiceError::invalid_field(
                        format!("time[{i}]"),
                        format!("`{text}` is not a date and time; write for example `2019-01-01T00:00:00Z`"),
                    )
                })
            })
            .collect::<Result<Vec<Stamp>, _>>()?;
        // Order first, so swapped rows are called unsorted rather than a gap.
        if let Some(i) = (1..stamps.len()).find(|i| stamps[*i].epoch_ms <= stamps[i - 1].epoch_ms) {
            return Err(ServiceError::invalid_field(
                format!("time[{i}]"),
                format!(
                    "`{}` is not after the previous timestamp `{}`; rows must be in time order",
                    time[i],
                    time[i - 1]
                ),
            ));
        }
        if let Some(i) = (1..stamps.len()).find(|i| stamps[*i].epoch_ms - stamps[i - 1].epoch_ms != HOUR_MS) {
            return Err(ServiceError::invalid_field(
                format!("time[{i}]"),
                format!(
                    "`{}` is {} after the previous timestamp `{}`; the series must be hourly without gaps",
                    time[i],
                    describe_step(stamps[i].epoch_ms - stamps[i - 1].epoch_ms),
                    time[i - 1]
                ),
            ));
        }
        let mut values = Vec::with_capacity(energy.len());
        for (i, value) in energy.into_iter().enumerate() {
            match value {
                Some(v) if v.is_finite() => values.push(v),
                _ => {
                    return Err(ServiceError::invalid_field(
                        format!("energy[{i}]"),
                        format!(
                            "is missing (null or NaN) at `{}`; every hour needs a load value in MW",
                            time[i]
                        ),
                    ));
                }
            }
        }
        Ok(Self {
            models,
            stamps,
            energy: values,
        })
    }
}

fn describe_step(ms: i64) -> String {
    if ms % HOUR_MS == 0 {
        format!("{} hours", ms / HOUR_MS)
    } else {
        format!("{} minutes", ms / 60_000)
    }
}

/// The forecasting service: loads the three models from a folder, then answers forecasts.
pub struct LoadForecaster {
    models_dir: PathBuf,
    models: Vec<Model>,
    chunk_hours: usize,
}

impl LoadForecaster {
    /// A service that loads its models from `models_dir` in `load_model`.
    pub fn new(models_dir: impl Into<PathBuf>) -> Self {
        Self {
            models_dir: models_dir.into(),
            models: Vec::new(),
            chunk_hours: CHUNK_HOURS,
        }
    }

    /// A service with models already in memory (tests, benchmarks).
    pub fn with_models(models: Vec<Model>) -> Self {
        Self {
            models_dir: PathBuf::new(),
            models,
            chunk_hours: CHUNK_HOURS,
        }
    }

    /// Forecasts `hours` hours per model between progress reports (rounded up to a multiple of the
    /// SVR's row tile, so the forecasts are the same as in one piece); [`CHUNK_HOURS`] by default.
    #[must_use]
    pub fn with_chunk_hours(mut self, hours: usize) -> Self {
        let tile = crate::svr_kernel::ROWS;
        self.chunk_hours = hours.max(1).div_ceil(tile) * tile;
        self
    }

    fn model(&self, kind: ModelKind) -> Result<&Model, ServiceError> {
        self.models
            .iter()
            .find(|m| m.kind() == kind)
            .ok_or_else(|| ServiceError::failed(format!("the {} model is not loaded", kind.name())))
    }

    /// Forecasts a validated request.
    pub fn forecast(&self, request: &ValidRequest) -> Result<ForecastResponse, ServiceError> {
        self.forecast_in(request, &Context::detached())
    }

    /// Forecasts a validated request for a caller that follows it: each model reports through `ctx`
    /// after each piece of [`CHUNK_HOURS`] hours, and stops before the next once `ctx` is canceled.
    pub fn forecast_in(&self, request: &ValidRequest, ctx: &Context) -> Result<ForecastResponse, ServiceError> {
        let epoch_ms: Vec<i64> = request.stamps.iter().map(|s| s.epoch_ms).collect();
        let models: Vec<&Model> = request
            .models
            .iter()
            .map(|kind| self.model(*kind))
            .collect::<Result<_, _>>()?;
        let hours = epoch_ms.len() + 1 - WINDOW;
        ctx.progress(
            0.0,
            format!("forecasting {hours} hours with {}", names(&request.models)),
        );
        let features = forecast_features(&epoch_ms, &request.energy);
        let time: Vec<String> = request.stamps[WINDOW - 1..]
            .iter()
            .map(|s| s.shifted_text(24))
            .collect();
        let tally = Tally {
            done: Mutex::new(0),
            total: hours * models.len(),
            hours,
        };
        // Each model on its own thread: the forest and the SVR take similar time.
        let predictions = std::thread::scope(|scope| {
            let handles: Vec<_> = models
                .iter()
                .map(|model| scope.spawn(|| self.predict_in_chunks(model, &features, &tally, ctx)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(ServiceError::failed("a model panicked")))
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        let forecasts = request
            .models
            .iter()
            .zip(predictions)
            .map(|(kind, normalised)| Forecast {
                model: *kind,
                time: time.clone(),
                energy: normalised
                    .into_iter()
                    .map(|v| (denormalise(v) * 10.0).round() / 10.0)
                    .collect(),
            })
            .collect();
        Ok(ForecastResponse { forecasts })
    }

    /// One model's predictions for every feature row, a piece of `chunk_hours` rows at a time.
    fn predict_in_chunks(
        &self,
        model: &Model,
        features: &[f64],
        tally: &Tally,
        ctx: &Context,
    ) -> Result<Vec<f64>, ServiceError> {
        let mut out = Vec::with_capacity(features.len() / N_FEATURES);
        for chunk in features.chunks(self.chunk_hours * N_FEATURES) {
            ctx.check_cancelled()?;
            out.extend(model.predict(chunk).map_err(ServiceError::failed)?);
            tally.add(model.kind(), chunk.len() / N_FEATURES, out.len(), ctx);
        }
        Ok(out)
    }
}

/// The hours forecast so far by all models of one request, reported in order.
struct Tally {
    done: Mutex<usize>,
    /// Hours times models.
    total: usize,
    /// Hours per model.
    hours: usize,
}

impl Tally {
    /// Counts `rows` more hours of `model` (which has done `model_done`) and reports the total.
    fn add(&self, model: ModelKind, rows: usize, model_done: usize, ctx: &Context) {
        // Reporting under the lock keeps the fractions rising, whichever thread reports.
        let Ok(mut done) = self.done.lock() else { return };
        *done += rows;
        if ctx.wants_progress() {
            let message = format!("{}: {model_done} of {} hours", model.name(), self.hours);
            ctx.progress(*done as f64 / self.total.max(1) as f64, message);
        }
    }
}

/// `LR, SVR and RF`.
fn names(models: &[ModelKind]) -> String {
    let names: Vec<&str> = models.iter().map(|m| m.name()).collect();
    match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

impl Service for LoadForecaster {
    type Request = ForecastRequest;
    type Response = ForecastResponse;

    fn info(&self) -> ServiceInfo {
        ServiceInfo::new("Load forecasting")
            .version(env!("CARGO_PKG_VERSION"))
            .description(
                "Forecasts the German electrical load one day ahead, hour by hour, from at least 24 hours of \
                 measured load, with linear regression, support vector regression and a random forest.",
            )
    }

    fn load_model(&mut self) -> Result<(), ServiceError> {
        if !self.models.is_empty() {
            return Ok(());
        }
        for kind in ModelKind::ALL {
            let model = Model::load(&self.models_dir, kind)
                .map_err(|e| ServiceError::failed(format!("{e:#}; run `load-forecasting train` first")))?;
            self.models.push(model);
        }
        Ok(())
    }

    fn process(&self, request: ForecastRequest) -> Result<ForecastResponse, ServiceError> {
        self.forecast(&ValidRequest::parse(request)?)
    }

    fn process_with(&self, request: ForecastRequest, ctx: &Context) -> Result<ForecastResponse, ServiceError> {
        self.forecast_in(&ValidRequest::parse(request)?, ctx)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            progress: true,
            cancellation: true,
            ..Capabilities::default()
        }
    }

    fn example_request(&self) -> Option<serde_json::Value> {
        Some(example_request(26))
    }
}

/// The first `hours` hours of the shipped January 2019 sample, as a request for all three models.
pub fn example_request(hours: usize) -> serde_json::Value {
    let sample = include_str!("../samples/2019-01.csv");
    let (time, energy): (Vec<&str>, Vec<f64>) = sample
        .lines()
        .skip(1)
        .take(hours)
        .filter_map(|line| {
            let (t, e) = line.split_once(',')?;
            Some((t, e.parse::<f64>().ok()?))
        })
        .unzip();
    serde_json::json!({"models": ["LR", "SVR", "RF"], "time": time, "energy": energy})
}
