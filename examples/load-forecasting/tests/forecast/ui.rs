//! The GUI's conversions on a shipped file, without a browser: the uploaded CSV and the chosen models
//! become the request, and the service's answer becomes two plots, a score table and a CSV download.

use easymlserve::prelude::*;
use easymlserve::ui::{FileValue, OutputValue, RawInput};
use load_forecasting::models::ModelKind;
use load_forecasting::ui::forecast_ui;

use crate::util::{sample, tiny_service};

/// Parses raw form values with the UI's own input definitions, as a GUI does.
fn form(models: &[&str], file_name: &str, bytes: Vec<u8>) -> Result<InputValues, UiError> {
    let inputs = forecast_ui().inputs();
    let input = |name: &str| inputs.iter().find(|i| i.name == name).unwrap();
    let mut values = InputValues::new();
    let raw_models = RawInput::Text(models.iter().map(|m| (*m).to_owned()).collect());
    values.insert("models", input("models").parse(raw_models)?);
    let file = RawInput::File(FileValue {
        name: file_name.to_owned(),
        bytes,
    });
    values.insert("csv", input("csv").parse(file)?);
    Ok(values)
}

#[test]
fn a_shipped_month_becomes_plots_scores_and_a_csv() {
    let bytes = std::fs::read(sample("2019-03.csv")).unwrap();
    let values = form(&["LR", "RF"], "2019-03.csv", bytes).unwrap();
    let request = forecast_ui().prepare_request(&values).unwrap();
    assert_eq!(request.models, vec![ModelKind::Lr, ModelKind::Rf]);
    assert_eq!(request.time.len(), 744);
    assert_eq!(request.time[0], "2019-03-01T00:00:00Z", "times go out as written");
    assert!(request.energy.iter().all(Option::is_some));

    let response = tiny_service().process(request.clone()).unwrap();
    let outputs = forecast_ui().process_response(&request, response).unwrap();

    let Some(OutputValue::Plot(forecast)) = outputs.get("forecast") else {
        panic!("no forecast plot")
    };
    assert_eq!(forecast.title, "24h ahead forecast");
    let names: Vec<&str> = forecast.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["measured", "LR", "RF"]);
    assert_eq!(forecast.series[0].x.len(), 744);
    assert_eq!(forecast.series[1].x.len(), 721);
    assert_eq!(forecast.x_type, easymlserve::ui::XType::Time);
    assert_eq!(
        forecast.series[0].x[0], 1_551_398_400_000.0,
        "2019-03-01T00:00:00Z in epoch ms"
    );

    let Some(OutputValue::Plot(error)) = outputs.get("error") else {
        panic!("no error plot")
    };
    assert_eq!(error.series.len(), 2);
    for series in &error.series {
        // Truth is known for the forecasts of hours 47..=743: 697 hours.
        assert_eq!(series.y.len(), 697, "{}", series.name);
        assert!(series.y.iter().all(|v| v.is_some_and(|v| v >= 0.0)));
        assert!(
            series.name.contains("(MAE ") && series.name.ends_with(" MW)"),
            "{}",
            series.name
        );
    }

    let Some(OutputValue::Table(scores)) = outputs.get("scores") else {
        panic!("no score table")
    };
    assert_eq!(scores.columns, ["model", "MAE", "MAPE", "hours compared"]);
    assert_eq!(scores.format_of("MAE").and_then(|f| f.unit.as_deref()), Some("MW"));
    assert_eq!(scores.rows.len(), 2);
    assert_eq!(scores.rows[0][0], "LR");
    assert_eq!(scores.rows[0][3], "697");
    let mae: f64 = scores.rows[1][1].parse().unwrap();
    assert!(mae > 0.0 && mae < 6_000.0, "RF MAE {mae}");

    let Some(OutputValue::File(file)) = outputs.get("download") else {
        panic!("no download")
    };
    assert_eq!(file.name, "forecast.csv");
    let text = String::from_utf8(file.data.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "time,energy,LR,RF");
    assert_eq!(lines.len(), 1 + 744 + 24, "every input hour and the day after it");
    assert!(
        lines[1].starts_with("2019-03-01T00:00:00Z,") && lines[1].ends_with(",,"),
        "{}",
        lines[1]
    );
    assert!(lines[768].starts_with("2019-04-01T23:00:00Z,,"), "{}", lines[768]);
}

#[test]
fn bad_uploads_are_reported_at_their_field() {
    let err = form(&["LR"], "x.csv", b"time,energy\n2019-01-01T00:00:00Z,NaN\n".to_vec()).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("csv"));
    assert!(err.message.contains("is not a number"), "{}", err.message);

    // The generated CSV input fills `energy` from the column of that name, else from the first
    // value column, so a `time,load` file is read as it was meant.
    let values = form(&["LR"], "load.csv", b"time,load\n2019-01-01T00:00:00Z,1\n".to_vec()).unwrap();
    let request = forecast_ui().prepare_request(&values).unwrap();
    assert_eq!(request.energy, [Some(1.0)]);

    // The GUI does not repeat the service's "at least 24 hours": the service refuses the request
    // naming `time`, and that error lands on the CSV that filled it.
    let short = "time,energy\n2019-01-01T00:00:00Z,1\n2019-01-01T01:00:00Z,2\n";
    let values = form(&["LR"], "short.csv", short.as_bytes().to_vec()).unwrap();
    let request = forecast_ui().prepare_request(&values).unwrap();
    assert_eq!(request.time.len(), 2);
    let Err(ServiceError::InvalidInput { field, message }) = tiny_service().process(request) else {
        panic!("2 hours were not refused")
    };
    assert_eq!(field.as_deref(), Some("time"), "{message}");
    assert!(message.contains("at least 24 hours"), "{message}");
    let field = field.unwrap_or_default();
    assert_eq!(forecast_ui().input_for_field(&field).as_deref(), Some("csv"));

    let bytes = std::fs::read(sample("2019-01.csv")).unwrap();
    let err = form(&[], "2019-01.csv", bytes).unwrap_err();
    assert_eq!(err.field.as_deref(), Some("models"));
    assert_eq!(err.message, "choose at least one option of Models");
}
