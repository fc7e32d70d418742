//! `DesktopUi`: the thin eframe runner that opens a native window for a UI description:
//! `DesktopUi::new(ui).service_url(url).run()`. The window size and the service URL are remembered.

use std::process::ExitCode;

use easymlserve_client::Client;
use easymlserve_ui::{GuiSource, Ui};

use crate::app::DesktopApp;

const URL_KEY: &str = "service_url";

/// Why the desktop GUI could not start.
#[derive(Debug, thiserror::Error)]
pub enum DesktopError {
    /// The service URL or API key is unusable, or the service's spec could not be fetched.
    #[error(transparent)]
    Client(#[from] easymlserve_client::ClientError),
    /// The runtime that fetches the spec could not start.
    #[error("the async runtime could not start: {0}")]
    Runtime(std::io::Error),
}

/// A native desktop window for a service.
pub struct DesktopUi {
    source: GuiSource,
    service_url: Option<String>,
    api_key: Option<String>,
    title: String,
    cache_examples: bool,
}

impl DesktopUi {
    /// A window running `ui`.
    pub fn new(ui: impl Ui) -> Self {
        Self::from_source(GuiSource::given(ui))
    }

    /// A window with a form generated from the service's request schema (from its `/api/spec`).
    pub fn generated() -> Self {
        Self::from_source(GuiSource::FromServiceSchema)
    }

    fn from_source(source: GuiSource) -> Self {
        Self {
            source,
            service_url: std::env::var("EASYMLSERVE_URL").ok().filter(|u| !u.is_empty()),
            api_key: std::env::var("EASYMLSERVE_API_KEY").ok().filter(|k| !k.is_empty()),
            title: "easymlserve".to_owned(),
            cache_examples: std::env::var("EASYMLSERVE_CACHE_EXAMPLES")
                .is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false")),
        }
    }

    /// The service's base URL (also read from `EASYMLSERVE_URL`; the window lets the user change it).
    #[must_use]
    pub fn service_url(mut self, url: impl Into<String>) -> Self {
        self.service_url = Some(url.into());
        self
    }

    /// The API key (also read from `EASYMLSERVE_API_KEY`).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Computes the examples' outputs when the window opens, so a click on one shows its result at
    /// once (also set by `EASYMLSERVE_CACHE_EXAMPLES`, as for the server's `--cache-examples`).
    #[must_use]
    pub fn cache_examples(mut self) -> Self {
        self.cache_examples = true;
        self
    }

    /// Builds the app state, fetching the service's spec for a generated form (and for a given UI with
    /// no title, which then shows the service's name).
    pub fn into_app(self) -> Result<DesktopApp, DesktopError> {
        let url = self.service_url.unwrap_or_else(|| "http://127.0.0.1:8000".to_owned());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(DesktopError::Runtime)?;
        // The client is made only when the spec is read, so a titled UI starts with no service.
        let fetch_spec = || async {
            let mut client = Client::new(url.clone())?;
            if let Some(key) = &self.api_key {
                client = client.api_key(key)?;
            }
            Ok::<_, DesktopError>(client.spec().await?)
        };
        let ui = runtime.block_on(self.source.resolve(fetch_spec))?;
        let app = DesktopApp::new(ui, url, self.api_key);
        Ok(if self.cache_examples { app.cache_examples() } else { app })
    }

    /// Opens the window and runs until it is closed.
    pub fn run(self) -> ExitCode {
        let title = self.title.clone();
        let explicit_url = self.service_url.is_some();
        let mut app = match self.into_app() {
            Ok(app) => app,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        let options = eframe::NativeOptions {
            viewport: egui::ViewportBuilder::default()
                .with_inner_size([1100.0, 760.0])
                .with_title(&title),
            persist_window: true,
            ..Default::default()
        };
        let outcome = eframe::run_native(
            &title,
            options,
            Box::new(move |cc| {
                if let (false, Some(url)) = (explicit_url, cc.storage.and_then(|s| s.get_string(URL_KEY))) {
                    app.service_url = url;
                }
                Ok(Box::new(Window(app)))
            }),
        );
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: the window could not be opened: {err}");
                ExitCode::FAILURE
            }
        }
    }
}

/// The eframe side of the app: draws `DesktopApp` in the window and remembers the URL.
struct Window(DesktopApp);

impl eframe::App for Window {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| self.0.ui(ui));
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        storage.set_string(URL_KEY, self.0.service_url.clone());
    }
}
