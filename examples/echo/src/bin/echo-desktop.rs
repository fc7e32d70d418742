//! The echo example's desktop GUI: `cargo run -p echo --features desktop --bin echo-desktop`, with the
//! service running (`cargo run -p echo`) at `EASYMLSERVE_URL` (default http://127.0.0.1:8000).
//! The only difference from the web GUI is this one line.

use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    DesktopUi::new(echo::EchoUi).run()
}
