//! The echo example's desktop GUI: `cargo run -p echo --features desktop --bin echo-desktop`, with the
//! service running (`cargo run -p echo`) at `EASYMLSERVE_URL` (default http://127.0.0.1:8000).
//! Like the web GUI, the window is generated from the service's schemas (read from its `/api/spec`).

use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    DesktopUi::generated().run()
}
