//! The forecasting GUI (the paper's Figure 3): choose models and upload a `time,energy` CSV; see the
//! day-ahead forecast against the measured load, the absolute error with each model's MAE, and download
//! everything as one CSV. The same `Ui` runs in the web and the desktop GUI.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use easymlserve::prelude::*;
use easymlserve::ui::{FileOutput, Table, field};

use crate::models::ModelKind;
use crate::service::{ForecastRequest, ForecastResponse};
use crate::stamp::Stamp;

/// The forecasting UI.
pub struct ForecastUi;

/// Accuracy of one model over the hours where the measured load is known.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The model.
    pub model: ModelKind,
    /// Hours compared.
    pub hours: usize,
    /// Mean absolute error, MW (`None` when no forecast hour has a measurement).
    pub mae: Option<f64>,
    /// Mean absolute percentage error, %.
    pub mape: Option<f64>,
}

/// One line of the CSV download: the time as written, the measured load, and each model's forecast.
struct CsvRow {
    text: String,
    measured: Option<f64>,
    forecasts: Vec<Option<f64>>,
}

/// `12345.6` as `12,346`.
pub fn thousands(value: f64) -> String {
    let rounded = value.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let groups: Vec<&str> = digits
        .as_bytes()
        .rchunks(3)
        .rev()
        .map(|g| std::str::from_utf8(g).unwrap_or_default())
        .collect();
    let out = groups.join(",");
    if rounded < 0 { format!("-{out}") } else { out }
}

fn parse_times(times: &[String], field: &str) -> Result<Vec<i64>, UiError> {
    times
        .iter()
        .map(|t| {
            Stamp::parse(t)
                .map(|s| s.epoch_ms)
                .ok_or_else(|| UiError::field(field, format!("`{t}` is not a date and time")))
        })
        .collect()
}

impl Ui for ForecastUi {
    type Request = ForecastRequest;
    type Response = ForecastResponse;

    fn title(&self) -> String {
        "Electrical load forecasting".to_owned()
    }

    fn description(&self) -> String {
        "Forecasts the German electrical load 24 hours ahead. Upload a CSV with the columns time,energy \
         (at least 24 consecutive hours, load in MW; for example samples/2019-01.csv of this example), \
         choose the models and press Submit."
            .to_owned()
    }

    fn inputs(&self) -> Vec<Input> {
        let names = ModelKind::ALL.map(ModelKind::name);
        vec![
            Input::multiple_choice("models", "Models", names)
                .default_value(names)
                .description("LR: linear regression, SVR: support vector regression, RF: random forest."),
            Input::time_series_csv_file("csv", "Load CSV")
                .description("Columns time,energy: consecutive hours, load in MW."),
        ]
    }

    fn outputs(&self) -> Vec<Output> {
        vec![
            Output::plot("forecast", "24h ahead forecast"),
            Output::plot("error", "Forecast error").description(
                "Absolute error of each model over the hours where the measured load is known; MAE in the legend.",
            ),
            Output::table("scores", "Mean absolute error per model"),
            Output::file("download", "Forecast CSV"),
        ]
    }

    fn prepare_request(&self, inputs: &InputValues) -> Result<ForecastRequest, UiError> {
        let mut models = Vec::new();
        for name in inputs.choices("models")? {
            let kind = ModelKind::from_name(name)
                .ok_or_else(|| UiError::field("models", format!("`{name}` is not a model; choose LR, SVR or RF")))?;
            models.push(kind);
        }
        if models.is_empty() {
            return Err(UiError::field("models", "choose at least one model"));
        }
        let series = inputs.time_series("csv")?;
        let energy = series.column("energy").ok_or_else(|| {
            UiError::field(
                "csv",
                format!("the file needs an `energy` column; found {}", series.columns.join(", ")),
            )
        })?;
        if series.len() < 24 {
            return Err(UiError::field(
                "csv",
                format!("the file has {} hours; a forecast needs at least 24", series.len()),
            ));
        }
        Ok(ForecastRequest {
            models,
            time: series.times.clone(),
            energy: energy.iter().map(|v| Some(*v)).collect(),
        })
    }

    fn process_response(&self, request: &ForecastRequest, response: ForecastResponse) -> Result<OutputValues, UiError> {
        let truth_ms = parse_times(&request.time, "csv")?;
        let truth: BTreeMap<i64, f64> = truth_ms
            .iter()
            .zip(&request.energy)
            .filter_map(|(t, e)| e.map(|e| (*t, e)))
            .collect();
        let x_truth: Vec<f64> = truth.keys().map(|t| *t as f64).collect();
        let mut forecast_plot = Plot::new("24h ahead forecast")
            .labels("time (UTC)", "load [MW]")
            .time_axis()
            .series(Series::line("measured", x_truth, truth.values().copied().collect()));
        let mut error_plot = Plot::new("Forecast error")
            .labels("time (UTC)", "absolute error [MW]")
            .time_axis();
        let mut scores = Vec::new();
        // One CSV line per hour, input hours and forecast hours alike, in time order.
        let blank = || vec![None; response.forecasts.len()];
        let mut rows: BTreeMap<i64, CsvRow> = truth_ms
            .iter()
            .zip(&request.time)
            .zip(&request.energy)
            .map(|((t, text), e)| {
                let row = CsvRow {
                    text: text.clone(),
                    measured: *e,
                    forecasts: blank(),
                };
                (*t, row)
            })
            .collect();
        for (column, forecast) in response.forecasts.iter().enumerate() {
            let times = parse_times(&forecast.time, "csv")?;
            let x: Vec<f64> = times.iter().map(|t| *t as f64).collect();
            forecast_plot = forecast_plot.series(Series::line(forecast.model.name(), x, forecast.energy.clone()));
            let (mut ex, mut ey, mut pct) = (Vec::new(), Vec::new(), 0.0);
            for ((t, text), value) in times.iter().zip(&forecast.time).zip(&forecast.energy) {
                if let Some(measured) = truth.get(t) {
                    ex.push(*t as f64);
                    ey.push((measured - value).abs());
                    pct += ((measured - value) / measured).abs();
                }
                let row = rows.entry(*t).or_insert_with(|| CsvRow {
                    text: text.clone(),
                    measured: None,
                    forecasts: blank(),
                });
                row.forecasts[column] = Some(*value);
            }
            let hours = ey.len();
            let mae = (hours > 0).then(|| ey.iter().sum::<f64>() / hours as f64);
            let mape = (hours > 0).then(|| 100.0 * pct / hours as f64);
            let name = match mae {
                Some(mae) => format!("{} (MAE {} MW)", forecast.model.name(), thousands(mae)),
                None => forecast.model.name().to_owned(),
            };
            error_plot = error_plot.series(Series::line(name, ex, ey));
            scores.push(Score {
                model: forecast.model,
                hours,
                mae,
                mape,
            });
        }
        let table = Table {
            columns: ["model", "MAE [MW]", "MAPE [%]", "hours compared"]
                .map(str::to_owned)
                .to_vec(),
            rows: scores
                .iter()
                .map(|s| {
                    vec![
                        s.model.name().to_owned(),
                        s.mae.map_or_else(|| "n/a".to_owned(), thousands),
                        s.mape.map_or_else(|| "n/a".to_owned(), |m| format!("{m:.2}")),
                        s.hours.to_string(),
                    ]
                })
                .collect(),
        };
        let mut csv = String::from("time,energy");
        for forecast in &response.forecasts {
            csv.push(',');
            csv.push_str(forecast.model.name());
        }
        csv.push('\n');
        let cell = |v: &Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        for row in rows.values() {
            let _ = write!(csv, "{},{}", row.text, cell(&row.measured));
            for f in &row.forecasts {
                let _ = write!(csv, ",{}", cell(f));
            }
            csv.push('\n');
        }
        Ok(OutputValues::new()
            .with("forecast", OutputValue::Plot(forecast_plot))
            .with("error", OutputValue::Plot(error_plot))
            .with("scores", OutputValue::Table(table))
            .with("download", OutputValue::File(FileOutput::csv("forecast.csv", csv))))
    }

    /// The CSV fills `time` and `energy`, so the server's 422 on `time[3]` shows under it.
    fn input_for_field(&self, path: &str) -> Option<String> {
        match field::top_level(path) {
            "time" | "energy" => Some("csv".to_owned()),
            _ => field::input_named_by(path, &self.inputs()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ForecastUi, Ui, thousands};

    #[test]
    fn errors_on_the_fields_the_csv_fills_land_on_the_csv() {
        assert_eq!(ForecastUi.input_for_field("time[3]").as_deref(), Some("csv"));
        assert_eq!(ForecastUi.input_for_field("energy").as_deref(), Some("csv"));
        assert_eq!(ForecastUi.input_for_field("models[0]").as_deref(), Some("models"));
        assert_eq!(ForecastUi.input_for_field("horizon"), None);
    }

    #[test]
    fn groups_thousands() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1234.5), "1,235");
        assert_eq!(thousands(-55_492.0), "-55,492");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
