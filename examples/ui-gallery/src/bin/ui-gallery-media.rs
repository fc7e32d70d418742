//! Serves the gallery's media page (camera, table, audio): `cargo run -p ui-gallery --bin ui-gallery-media`,
//! then open http://127.0.0.1:8000/ui/ (the camera and the microphone need localhost or https).

use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    Server::new(ui_gallery::MediaLab).with_ui(ui_gallery::MediaUi).run()
}
