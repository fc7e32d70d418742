//! The UI gallery: a service and a UI that use every input and output component, to see them all on
//! one page (`cargo run -p ui-gallery`, then open http://127.0.0.1:8000/ui/) and to test them all.

mod media;
mod rich;
mod service;
mod ui;

pub use media::{Measurement, MediaLab, MediaRequest, MediaResponse, MediaUi, PhotoSize, Sound};
pub use service::{Gallery, GalleryRequest, GalleryResponse};
pub use ui::GalleryUi;
