//! The cell-segmentation desktop GUI: `cargo run -p cell-segmentation --features desktop --bin
//! cell-segmentation-desktop`, with the service running (`cargo run --release -p cell-segmentation`) at
//! `EASYMLSERVE_URL` (default http://127.0.0.1:8000). The same `Ui` as the web GUI, drawn natively.

use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    DesktopUi::new(cell_segmentation::ui::cell_ui()).run()
}
