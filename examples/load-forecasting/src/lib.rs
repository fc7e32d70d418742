//! One-day-ahead forecasting of the German electrical load with linear regression, SVR and a random
//! forest: the first use case of the EasyMLServe paper, served with easymlserve. `cargo run --release
//! -p load-forecasting` trains (first time only), then serves the REST API and web GUI on
//! http://127.0.0.1:8000/ui/.

pub mod compact_forest;
pub mod data;
pub mod examples;
pub mod fast_exp;
pub mod features;
pub mod generate;
pub mod models;
pub mod service;
pub mod stamp;
pub mod svr_kernel;
pub mod train;
pub mod ui;

/// The example's folder (data, samples, models), as compiled in.
pub fn example_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
