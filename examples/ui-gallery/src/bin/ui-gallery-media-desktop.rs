//! The gallery's media page in the desktop GUI: `cargo run -p ui-gallery --features desktop --bin
//! ui-gallery-media-desktop`, with the media service running (`cargo run -p ui-gallery --bin
//! ui-gallery-media`) at `EASYMLSERVE_URL` (default http://127.0.0.1:8000). The camera and microphone
//! are the web page's; here the inputs take an image or a sound file.

use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    DesktopUi::new(ui_gallery::MediaUi).run()
}
