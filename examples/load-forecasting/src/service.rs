//! The forecasting service, wire-compatible with the original EasyMLServe example: `{"models", "time",
//! "energy"}` in, `{"forecasts": [{"model", "time", "energy"}]}` out, one forecast per input hour from
//! the 24th on, stamped 24 hours later in the input's own time format. Input the original answered
//! with 500 is refused here with 422 naming the field.

use std::path::PathBuf;

use easymlserve::prelude::*;

use crate::features::{HOUR_MS, WINDOW, denormalise, forecast_features};
use crate::models::{Model, ModelKind};
use crate::stamp::Stamp;

/// The most hours one request may hold (about eleven years).
pub const MAX_HOURS: usize = 100_000;

/// An hourly load series and the models to forecast it with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForecastRequest {
    /// The models to run: any of `LR` (linear regression), `SVR` (support vector regression) and `RF`
    /// (random forest), each at most once.
    #[schemars(length(min = 1, max = 3))]
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
}

impl LoadForecaster {
    /// A service that loads its models from `models_dir` in `load_model`.
    pub fn new(models_dir: impl Into<PathBuf>) -> Self {
        Self {
            models_dir: models_dir.into(),
            models: Vec::new(),
        }
    }

    /// A service with models already in memory (tests, benchmarks).
    pub fn with_models(models: Vec<Model>) -> Self {
        Self {
            models_dir: PathBuf::new(),
            models,
        }
    }

    fn model(&self, kind: ModelKind) -> Result<&Model, ServiceError> {
        self.models
            .iter()
            .find(|m| m.kind() == kind)
            .ok_or_else(|| ServiceError::failed(format!("the {} model is not loaded", kind.name())))
    }

    /// Forecasts a validated request.
    pub fn forecast(&self, request: &ValidRequest) -> Result<ForecastResponse, ServiceError> {
        let epoch_ms: Vec<i64> = request.stamps.iter().map(|s| s.epoch_ms).collect();
        let features = forecast_features(&epoch_ms, &request.energy);
        let time: Vec<String> = request.stamps[WINDOW - 1..]
            .iter()
            .map(|s| s.shifted_text(24))
            .collect();
        let models: Vec<&Model> = request
            .models
            .iter()
            .map(|kind| self.model(*kind))
            .collect::<Result<_, _>>()?;
        // Each model on its own thread: the forest and the SVR take similar time.
        let predictions = std::thread::scope(|scope| {
            let handles: Vec<_> = models
                .iter()
                .map(|model| scope.spawn(|| model.predict(&features)))
                .collect();
            handles
                .into_iter()
                .map(|h| match h.join() {
                    Ok(result) => result.map_err(ServiceError::failed),
                    Err(_) => Err(ServiceError::failed("a model panicked")),
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
