//! The forecasting GUI as a desktop window: `cargo run -p load-forecasting --features desktop --bin
//! load-forecasting-desktop`, with the service running (`cargo run --release -p load-forecasting`) at
//! `EASYMLSERVE_URL` (default http://127.0.0.1:8000). The only difference from the web GUI is this line.

use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    DesktopUi::new(load_forecasting::ui::forecast_ui()).run()
}
