//! Serves the UI gallery with its web GUI: `cargo run -p ui-gallery`, then open http://127.0.0.1:8000/ui/

use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    Server::new(ui_gallery::Gallery).with_ui(ui_gallery::GalleryUi).run()
}
