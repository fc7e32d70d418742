//! The ui-gallery example's desktop GUI: `cargo run -p ui-gallery --features desktop --bin ui-gallery-desktop`, with the
//! service running (`cargo run -p ui-gallery`) at `EASYMLSERVE_URL` (default http://127.0.0.1:8000).
//! The only difference from the web GUI is this one line.

use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    DesktopUi::new(ui_gallery::GalleryUi).run()
}
