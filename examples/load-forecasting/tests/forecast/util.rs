//! Helpers: tiny models trained from a slice of the shipped data, shipped files, and a server on a
//! free loopback port.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use easymlserve::prelude::*;
use load_forecasting::data::{HourlySeries, read_series};
use load_forecasting::models::FitSettings;
use load_forecasting::service::LoadForecaster;
use load_forecasting::train::{TrainOptions, train};
use load_forecasting::ui::forecast_ui;

/// The example's folder.
pub fn example_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A shipped request file, e.g. `samples/2019-01.csv`.
pub fn sample(name: &str) -> PathBuf {
    example_dir().join("samples").join(name)
}

/// A fresh folder under the system temp dir, removed first if it exists.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("load-forecasting-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Hours `from..to` (UTC, `YYYY-MM-DD`) of the shipped synthetic series.
pub fn shipped_slice(from: &str, to: &str) -> HourlySeries {
    let all = read_series(&example_dir().join("data/german-load-synthetic-2015-2020.csv")).unwrap();
    let index = |day: &str| {
        let at = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        ((at - all.start_ms) / 3_600_000) as usize
    };
    let (a, b) = (index(from), index(to));
    HourlySeries {
        start_ms: all.time_ms(a),
        load: all.load[a..b].to_vec(),
    }
}

/// Tiny models (2,000 hours spread over 2018, a 10-tree forest), trained once per test process and saved.
pub fn tiny_models() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = temp_dir("tiny-models");
        let series = shipped_slice("2018-01-01", "2019-01-08");
        let mut options = TrainOptions::new(&dir);
        options.max_rows = 2000;
        options.fit = FitSettings {
            trees: 10,
            ..FitSettings::default()
        };
        options.progress = false;
        let report = train(&series, &options).unwrap();
        assert_eq!(report.models.len(), 3);
        dir
    })
}

/// The service with the tiny models loaded.
pub fn tiny_service() -> LoadForecaster {
    let mut service = LoadForecaster::new(tiny_models());
    service.load_model().unwrap();
    service
}

/// Serves the tiny models with the GUI on 127.0.0.1:0; returns the base URL once ready.
pub async fn serve_tiny() -> String {
    let dir = tiny_models().to_owned();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = Server::new(LoadForecaster::new(dir)).with_ui(forecast_ui());
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    let client = Client::new(url.clone()).unwrap();
    for _ in 0..1000 {
        if client.ready().await.is_ok() {
            return url;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{url} never became ready");
}

/// A shipped `time,energy` file as a request for `models`.
pub fn request_from_csv(path: &Path, models: &[&str]) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap();
    let mut time = Vec::new();
    let mut energy = Vec::new();
    for line in text.lines().skip(1) {
        let (t, e) = line.split_once(',').unwrap();
        time.push(t.to_owned());
        energy.push(e.parse::<f64>().unwrap());
    }
    serde_json::json!({"models": models, "time": time, "energy": energy})
}
