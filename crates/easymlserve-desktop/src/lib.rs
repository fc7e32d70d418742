//! The easymlserve desktop GUI: a native window (egui) rendered from the same UI description as the web
//! GUI, for users who run the GUI on their own machine and the model on a powerful one over REST.
//!
//! `DesktopUi::new(ui).service_url(url).run()` opens it; switching an example from the web GUI is
//! changing that one line. [`DesktopApp::ui`] is a pure egui view that tests drive headless with
//! egui_kittest; requests run on a background thread so the window never freezes. When the service
//! offers jobs, a request runs as one, with a progress bar, the queue position, an ETA and Cancel.
//! After an answer, "Use via API" shows the request just sent as curl, Python, JavaScript and Rust.

mod api_panel;
mod app;
mod dataframe;
mod examples;
mod inputs;
mod job;
mod media;
mod numbers;
mod outputs;
mod rich_outputs;
mod runner;
mod theme;
mod time_axis;

pub use api_panel::{KEY_PLACEHOLDER, Language, snippet};
pub use app::DesktopApp;
pub use job::JobProgress;
pub use runner::{DesktopError, DesktopUi};
