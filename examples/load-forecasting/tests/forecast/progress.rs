//! Progress and cancel of a forecast: a request in several pieces reports each model's pieces with
//! rising fractions before its result (through the engine, as a job or stream sees it), gives the same
//! forecasts as in one piece, and stops between pieces once canceled.

use std::sync::{Arc, Mutex};

use easymlserve::core::{CancelFlag, Progress};
use easymlserve::prelude::*;
use easymlserve::server::{Event, Submit};
use load_forecasting::service::{ForecastRequest, ForecastResponse};

use crate::util::{request_from_csv, sample, tiny_service};

/// January 2019, 744 hours: 721 forecasts per model, four pieces of 200 hours each.
fn january() -> serde_json::Value {
    request_from_csv(&sample("2019-01.csv"), &["LR", "SVR", "RF"])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_models_pieces_are_reported_with_rising_fractions_then_the_result() {
    let state = Server::new(tiny_service().with_chunk_hours(200)).into_state();
    state.load().await.unwrap();
    let engine = state.engine();
    let mut execution = engine
        .submit(
            engine.validate(january()).unwrap(),
            Submit {
                progress: true,
                ..Submit::default()
            },
        )
        .unwrap();
    let mut reports = Vec::new();
    let mut result = None;
    while let Some(event) = execution.next().await {
        match event {
            Event::Progress(progress) => {
                assert!(result.is_none(), "progress after the result");
                reports.push(progress);
            }
            Event::Result(body) => result = Some(body),
            Event::Error(err) => panic!("the forecast failed: {err}"),
        }
    }
    assert_eq!(reports.len(), 1 + 3 * 4, "{reports:?}");
    assert_eq!(reports[0].message, "forecasting 721 hours with LR, SVR and RF");
    let fractions: Vec<f64> = reports.iter().map(|p| p.fraction.unwrap()).collect();
    assert!(fractions.windows(2).all(|w| w[0] < w[1]), "{fractions:?}");
    assert_eq!((fractions[0], fractions[12]), (0.0, 1.0));
    for model in ["LR", "SVR", "RF"] {
        let pieces: Vec<&str> = reports
            .iter()
            .filter_map(|p| p.message.strip_prefix(&format!("{model}: ")))
            .collect();
        assert_eq!(
            pieces,
            [
                "200 of 721 hours",
                "400 of 721 hours",
                "600 of 721 hours",
                "721 of 721 hours"
            ]
        );
    }
    // In pieces or at once, the forecasts are the same to the last digit.
    let pieces: ForecastResponse = serde_json::from_slice(&result.unwrap()).unwrap();
    let request: ForecastRequest = serde_json::from_value(january()).unwrap();
    let whole = tiny_service().process(request).unwrap();
    assert_eq!(pieces, whole);
    assert!(state.spec().unwrap().capabilities.cancellation);
}

#[test]
fn a_cancel_stops_every_model_before_its_next_piece() {
    let service = tiny_service().with_chunk_hours(100);
    let flag = CancelFlag::new();
    let reports = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let sink = {
        let (reports, flag) = (Arc::clone(&reports), flag.clone());
        Arc::new(move |p: Progress| {
            reports.lock().unwrap().push(p);
            flag.cancel();
        })
    };
    let ctx = Context::detached().with_cancel(flag).with_progress(sink);
    let request: ForecastRequest = serde_json::from_value(january()).unwrap();
    assert_eq!(service.process_with(request, &ctx).err(), Some(ServiceError::Cancelled));
    // The first report cancels; each model may finish the piece it is on, none starts another.
    let reports = reports.lock().unwrap();
    assert!(reports.len() <= 1 + 3, "{reports:?}");
}
