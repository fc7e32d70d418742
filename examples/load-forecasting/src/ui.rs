//! The forecasting GUI (the paper's Figure 3): the GUI generated from `ForecastRequest` and
//! `ForecastResponse` (model checkboxes, one `time,energy` CSV upload that fills two fields, a 422 on
//! `time[3]` shown under the CSV) plus what the response does not hold: the forecast drawn against
//! the measured load, the absolute error with each model's MAE, a score table, and everything as one
//! CSV download. The same `Ui` runs in the web and the desktop GUI.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use easymlserve::prelude::*;
use easymlserve::ui::{DerivedUi, FileOutput, Table};

use crate::models::ModelKind;
use crate::service::{ForecastRequest, ForecastResponse};
use crate::stamp::Stamp;

/// The forecasting UI's type.
pub type ForecastUi = DerivedUi<ForecastRequest, ForecastResponse>;

/// The forecasting UI: the generated one, its `forecasts` plot replaced by `forecast` (with the
/// measured load), and `error`, `scores` and `download` derived.
pub fn forecast_ui() -> ForecastUi {
    DerivedUi::new(
        "Electrical load forecasting",
        "Forecasts the German electrical load 24 hours ahead. Upload a CSV with the columns time,energy \
         (at least 24 consecutive hours, load in MW; for example samples/2019-01.csv of this example), \
         choose the models and press Submit.",
    )
    .replace_output(
        "forecasts",
        Output::plot("forecast", "24h ahead forecast"),
        forecast_plot,
    )
    .with_output(
        Output::plot("error", "Forecast error").description(
            "Absolute error of each model over the hours where the measured load is known; MAE in the legend.",
        ),
        error_plot,
    )
    .with_output(Output::table("scores", "Mean absolute error per model"), score_table)
    .with_output(Output::file("download", "Forecast CSV"), download)
    .with_examples(crate::examples::sample_months())
}

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

fn parse_times(times: &[String]) -> Result<Vec<i64>, UiError> {
    times
        .iter()
        .map(|t| {
            Stamp::parse(t)
                .map(|s| s.epoch_ms)
                .ok_or_else(|| UiError::field("csv", format!("`{t}` is not a date and time")))
        })
        .collect()
}

/// The measured load by hour (epoch ms).
fn measured(request: &ForecastRequest) -> Result<BTreeMap<i64, f64>, UiError> {
    Ok(parse_times(&request.time)?
        .into_iter()
        .zip(&request.energy)
        .filter_map(|(t, e)| e.map(|e| (t, e)))
        .collect())
}

fn forecast_plot(request: &ForecastRequest, response: &ForecastResponse) -> Result<OutputValue, UiError> {
    let truth = measured(request)?;
    let x_truth: Vec<f64> = truth.keys().map(|t| *t as f64).collect();
    let mut plot = Plot::new("24h ahead forecast")
        .labels("time (UTC)", "load [MW]")
        .time_axis()
        .series(Series::line("measured", x_truth, truth.values().copied().collect()));
    for forecast in &response.forecasts {
        let x: Vec<f64> = parse_times(&forecast.time)?.iter().map(|t| *t as f64).collect();
        plot = plot.series(Series::line(forecast.model.name(), x, forecast.energy.clone()));
    }
    Ok(OutputValue::Plot(plot))
}

/// A model's score and its absolute errors as plot `x` and `y`.
type Scored = (Score, Vec<f64>, Vec<f64>);

/// Each model's score and errors over the hours with a measurement.
fn scores(request: &ForecastRequest, response: &ForecastResponse) -> Result<Vec<Scored>, UiError> {
    let truth = measured(request)?;
    let mut out = Vec::new();
    for forecast in &response.forecasts {
        let (mut ex, mut ey, mut pct) = (Vec::new(), Vec::new(), 0.0);
        for (t, value) in parse_times(&forecast.time)?.iter().zip(&forecast.energy) {
            if let Some(measured) = truth.get(t) {
                ex.push(*t as f64);
                ey.push((measured - value).abs());
                pct += ((measured - value) / measured).abs();
            }
        }
        let hours = ey.len();
        let score = Score {
            model: forecast.model,
            hours,
            mae: (hours > 0).then(|| ey.iter().sum::<f64>() / hours as f64),
            mape: (hours > 0).then(|| 100.0 * pct / hours as f64),
        };
        out.push((score, ex, ey));
    }
    Ok(out)
}

fn error_plot(request: &ForecastRequest, response: &ForecastResponse) -> Result<OutputValue, UiError> {
    let mut plot = Plot::new("Forecast error")
        .labels("time (UTC)", "absolute error [MW]")
        .time_axis();
    for (score, ex, ey) in scores(request, response)? {
        let name = match score.mae {
            Some(mae) => format!("{} (MAE {} MW)", score.model.name(), thousands(mae)),
            None => score.model.name().to_owned(),
        };
        plot = plot.series(Series::line(name, ex, ey));
    }
    Ok(OutputValue::Plot(plot))
}

fn score_table(request: &ForecastRequest, response: &ForecastResponse) -> Result<OutputValue, UiError> {
    let rows = scores(request, response)?
        .into_iter()
        .map(|(s, _, _)| {
            // Full values: the GUIs round them by the column formats and copy them whole.
            let full = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| v.to_string());
            vec![
                s.model.name().to_owned(),
                full(s.mae),
                full(s.mape),
                s.hours.to_string(),
            ]
        })
        .collect();
    let columns = ["model", "MAE", "MAPE", "hours compared"].map(str::to_owned).to_vec();
    Ok(OutputValue::Table(
        Table::new(columns, rows)
            .column_format("MAE", Some(1), "MW")
            .column_format("MAPE", Some(2), "%")
            .column_format("hours compared", Some(0), ""),
    ))
}

/// One CSV line per hour, input hours and forecast hours alike, in time order.
fn download(request: &ForecastRequest, response: &ForecastResponse) -> Result<OutputValue, UiError> {
    let blank = || vec![None; response.forecasts.len()];
    let mut rows: BTreeMap<i64, CsvRow> = parse_times(&request.time)?
        .into_iter()
        .zip(&request.time)
        .zip(&request.energy)
        .map(|((t, text), e)| {
            let row = CsvRow {
                text: text.clone(),
                measured: *e,
                forecasts: blank(),
            };
            (t, row)
        })
        .collect();
    for (column, forecast) in response.forecasts.iter().enumerate() {
        for ((t, text), value) in parse_times(&forecast.time)?
            .into_iter()
            .zip(&forecast.time)
            .zip(&forecast.energy)
        {
            let row = rows.entry(t).or_insert_with(|| CsvRow {
                text: text.clone(),
                measured: None,
                forecasts: blank(),
            });
            row.forecasts[column] = Some(*value);
        }
    }
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
    Ok(OutputValue::File(FileOutput::csv("forecast.csv", csv)))
}

#[cfg(test)]
mod tests {
    use super::{Ui, forecast_ui, thousands};

    #[test]
    fn errors_on_the_fields_the_csv_fills_land_on_the_csv() {
        let ui = forecast_ui();
        assert_eq!(ui.input_for_field("time[3]").as_deref(), Some("csv"));
        assert_eq!(ui.input_for_field("energy").as_deref(), Some("csv"));
        assert_eq!(ui.input_for_field("models[0]").as_deref(), Some("models"));
        assert_eq!(ui.input_for_field("horizon"), None);
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
