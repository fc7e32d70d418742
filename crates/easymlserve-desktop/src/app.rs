//! `DesktopApp`: the state and the view of the desktop GUI, as a pure egui function (`ui`) that tests
//! drive headless. Requests run on a background runtime; the window keeps drawing, shows a spinner and
//! the elapsed time, and offers Cancel. A service that offers jobs gets its request as a job, shown
//! with a progress bar, and Cancel cancels it there. The UI's examples are listed under the form.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use easymlserve_client::Client;
use easymlserve_core::ServiceCaller;
use easymlserve_ui::{Completed, DynUi, OutputValues, RunError, UiSession};

use crate::api_panel::ApiPanel;
use crate::examples::ExampleList;
use crate::inputs::{InputState, input_ui};
use crate::job::{JobProgress, SharedProgress, cancel_job, lock, progress_ui, run_job};
use crate::outputs::{OutputCache, output_ui};

type Shared<T> = Arc<Mutex<Option<T>>>;

/// A request on its way.
struct Pending {
    started: Instant,
    handle: tokio::task::JoinHandle<()>,
    result: Shared<Result<Completed, RunError>>,
    caller: Arc<dyn ServiceCaller>,
    /// How far the job is, when the request runs as a job.
    job: Option<SharedProgress>,
    /// Wakes the window.
    ctx: egui::Context,
}

/// The desktop GUI for one UI description.
pub struct DesktopApp {
    session: UiSession,
    /// Base URL of the service, editable in the window.
    pub service_url: String,
    /// API key sent to the service, editable in the window (never saved to disk).
    pub api_key: String,
    inputs: Vec<InputState>,
    errors: BTreeMap<String, String>,
    banner: Option<String>,
    status: String,
    outputs: OutputValues,
    cache: OutputCache,
    pending: Option<Pending>,
    runtime: Arc<tokio::runtime::Runtime>,
    /// The service, when it is given instead of reached at `service_url` (in the same process).
    caller: Option<Arc<dyn ServiceCaller>>,
    examples: ExampleList,
    /// The request of the last answer, for "Use via API" (none for an example computed at start).
    last_request: Option<serde_json::Value>,
    api_panel: ApiPanel,
}

impl DesktopApp {
    /// A window for `ui`, talking to the service at `service_url`.
    pub fn new(ui: Arc<dyn DynUi>, service_url: impl Into<String>, api_key: Option<String>) -> Self {
        let session = UiSession::new(ui);
        let inputs = session.spec().inputs.iter().map(InputState::new).collect();
        let examples = ExampleList::new(&session);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("easymlserve-desktop-net")
            .enable_all()
            .build()
            .map(Arc::new)
            .unwrap_or_else(|err| panic!("cannot start the network thread: {err}"));
        Self {
            session,
            service_url: service_url.into(),
            api_key: api_key.unwrap_or_default(),
            inputs,
            errors: BTreeMap::new(),
            banner: None,
            status: String::new(),
            outputs: OutputValues::new(),
            cache: OutputCache::default(),
            pending: None,
            runtime,
            caller: None,
            examples,
            last_request: None,
            api_panel: ApiPanel::default(),
        }
    }

    /// Computes every example's outputs in the background once the window first draws, so a click on
    /// one shows its result at once (the desktop's `--cache-examples`).
    #[must_use]
    pub fn cache_examples(mut self) -> Self {
        self.examples.want_cache();
        self
    }

    /// A window for `ui` that calls the service through `caller` (e.g. a server's state in the same
    /// process) instead of over REST; the URL and key fields are then not shown.
    pub fn with_caller(ui: Arc<dyn DynUi>, caller: Arc<dyn ServiceCaller>) -> Self {
        let mut app = Self::new(ui, String::new(), None);
        app.caller = Some(caller);
        app
    }

    /// Whether a request is running.
    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    /// The outputs of the last answer.
    pub fn outputs(&self) -> &OutputValues {
        &self.outputs
    }

    /// The error shown at the top, if any.
    pub fn banner(&self) -> Option<&str> {
        self.banner.as_deref()
    }

    /// The error shown next to an input, if any.
    pub fn field_error(&self, name: &str) -> Option<&str> {
        self.errors.get(name).map(String::as_str)
    }

    /// The status line (elapsed time, done, failed, cancelled).
    pub fn status(&self) -> &str {
        &self.status
    }

    /// How far the running job is, when the request runs as a job.
    pub fn job(&self) -> Option<JobProgress> {
        let job = self.pending.as_ref()?.job.as_ref()?;
        Some(lock(job).clone())
    }

    /// Draws the whole window.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        self.poll();
        if self.examples.take_cache_wish() {
            match self.caller() {
                Ok(caller) => {
                    let wake = ui.ctx().clone();
                    let session = self.session.clone();
                    self.examples
                        .cache(session, caller, &self.runtime, move || wake.request_repaint());
                }
                Err(err) => self.banner = Some(format!("the examples cannot be computed: {err}")),
            }
        }
        if let Some(index) = self.examples.awaited_and_ready() {
            self.show_example_result(index);
        }
        ui.horizontal(crate::theme::toggle_ui);
        self.settings_ui(ui);
        if let Some(banner) = &self.banner {
            ui.colored_label(ui.visuals().error_fg_color, banner);
        }
        ui.separator();
        let title = self.session.spec().title.clone();
        if !title.is_empty() {
            ui.heading(title);
        }
        let description = self.session.spec().description.clone();
        if !description.is_empty() {
            ui.label(description);
        }
        let wide = ui.available_width() > 760.0;
        if wide {
            ui.columns(2, |columns| {
                egui::ScrollArea::vertical()
                    .id_salt("inputs")
                    .show(&mut columns[0], |ui| self.inputs_ui(ui));
                egui::ScrollArea::vertical()
                    .id_salt("outputs")
                    .show(&mut columns[1], |ui| self.outputs_ui(ui));
            });
        } else {
            egui::ScrollArea::vertical().id_salt("all").show(ui, |ui| {
                self.inputs_ui(ui);
                ui.separator();
                self.outputs_ui(ui);
            });
        }
        if let Some(pending) = &self.pending {
            self.status = format!("Running… {:.1} s", pending.started.elapsed().as_secs_f64());
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
    }

    fn settings_ui(&mut self, ui: &mut egui::Ui) {
        if self.caller.is_some() {
            return;
        }
        ui.horizontal_wrapped(|ui| {
            let label = ui.label("Service URL");
            ui.add(egui::TextEdit::singleline(&mut self.service_url).desired_width(260.0))
                .labelled_by(label.id);
            let label = ui.label("API key");
            ui.add(
                egui::TextEdit::singleline(&mut self.api_key)
                    .password(true)
                    .desired_width(160.0),
            )
            .labelled_by(label.id);
        });
    }

    fn inputs_ui(&mut self, ui: &mut egui::Ui) {
        let spec = self.session.spec().clone();
        for (input, state) in spec.inputs.iter().zip(self.inputs.iter_mut()) {
            ui.push_id(&input.name, |ui| {
                // A message about this input goes once the user changes it (a file's load says itself).
                let shown = self.errors.contains_key(&input.name) && !matches!(state, InputState::File(_));
                let before = shown.then(|| state.to_raw(input));
                if let Some(event) = input_ui(ui, input, state) {
                    match event {
                        Ok(()) => self.errors.remove(&input.name),
                        Err(message) => self.errors.insert(input.name.clone(), message),
                    };
                }
                if before.is_some_and(|raw| raw != state.to_raw(input)) {
                    self.errors.remove(&input.name);
                }
                if let Some(error) = self.errors.get(&input.name) {
                    ui.colored_label(ui.visuals().error_fg_color, error);
                }
            });
            ui.add_space(8.0);
        }
        ui.horizontal(|ui| {
            let submit = ui.add_enabled(self.pending.is_none(), egui::Button::new("Submit"));
            if submit.clicked() {
                self.submit(ui.ctx());
            }
            if self.pending.as_ref().is_some_and(|p| p.job.is_none()) {
                ui.spinner();
                if ui.button("Cancel").clicked() {
                    self.cancel();
                }
            }
            if ui.button("Clear").clicked() {
                self.inputs = spec.inputs.iter().map(InputState::new).collect();
                self.errors.clear();
                self.banner = None;
            }
            ui.label(&self.status);
        });
        let job = self.pending.as_ref().and_then(|p| Some((p.job.as_ref()?, p.started)));
        if let Some((job, started)) = job {
            let progress = lock(job).clone();
            if progress_ui(ui, &progress, started.elapsed()) {
                self.cancel();
            }
        }
        if let Some(index) = self.examples.ui(ui) {
            self.use_example(index);
        }
    }

    /// Fills the form with example `index` (every input it names, files included); when its outputs
    /// were computed at start, shows them too.
    pub fn use_example(&mut self, index: usize) {
        if index >= self.session.examples().len() {
            return;
        }
        self.errors.clear();
        self.banner = None;
        crate::examples::fill(&self.session, index, &mut self.inputs, &mut self.errors);
        self.show_example_result(index);
    }

    /// Shows the outputs of example `index` computed at start, or says what to do instead.
    fn show_example_result(&mut self, index: usize) {
        let (status, outputs) = self.examples.outcome(index);
        if let Some(outputs) = outputs {
            self.cache.clear();
            self.outputs = outputs;
            self.last_request = None;
        }
        self.status = status;
    }

    fn outputs_ui(&mut self, ui: &mut egui::Ui) {
        for output in &self.session.spec().outputs {
            ui.push_id(&output.name, |ui| {
                output_ui(ui, output, self.outputs.get(&output.name), &mut self.cache)
            });
            ui.add_space(12.0);
        }
        // Over REST only: a service given in process has no URL to send to.
        if let (Some(request), None) = (&self.last_request, &self.caller) {
            let with_key = !self.api_key.trim().is_empty();
            self.api_panel.ui(ui, &self.service_url, request, with_key);
        }
    }

    /// Parses the form and starts the request in the background.
    pub fn submit(&mut self, ctx: &egui::Context) {
        self.errors.clear();
        self.banner = None;
        let raw = self
            .session
            .spec()
            .inputs
            .iter()
            .zip(&self.inputs)
            .map(|(input, state)| (input.name.clone(), state.to_raw(input)))
            .collect();
        let values = match self.session.parse_inputs(raw) {
            Ok(values) => values,
            Err(err) => return self.show_error(err.field, err.message),
        };
        let caller = match self.caller() {
            Ok(caller) => caller,
            Err(err) => return self.show_error(None, err.to_string()),
        };
        let result: Shared<Result<Completed, RunError>> = Arc::new(Mutex::new(None));
        let job = caller.jobs().map(|_| SharedProgress::default());
        let (session, slot, wake) = (self.session.clone(), Arc::clone(&result), ctx.clone());
        let (called, progress) = (Arc::clone(&caller), job.clone());
        let handle = self.runtime.spawn(async move {
            let outcome = match progress {
                Some(progress) => {
                    let repaint = wake.clone();
                    run_job(session, values, called, progress, move || repaint.request_repaint()).await
                }
                None => session.run(&values, called.as_ref()).await,
            };
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(outcome);
            wake.request_repaint();
        });
        self.pending = Some(Pending {
            started: Instant::now(),
            handle,
            result,
            caller,
            job,
            ctx: ctx.clone(),
        });
    }

    /// The given caller, or a REST client for the URL and key in the window.
    fn caller(&self) -> Result<Arc<dyn ServiceCaller>, easymlserve_client::ClientError> {
        if let Some(caller) = &self.caller {
            return Ok(Arc::clone(caller));
        }
        let client = Client::new(self.service_url.trim())?;
        let client = match self.api_key.trim() {
            "" => client,
            key => client.api_key(key)?,
        };
        Ok(Arc::new(client))
    }

    /// Cancels the running request: a job is canceled on the service and ends when it says so (a
    /// second Cancel stops waiting for that); any other request is abandoned.
    pub fn cancel(&mut self) {
        let Some(pending) = &self.pending else { return };
        if let Some(job) = &pending.job {
            let mut progress = lock(job);
            if let (Some(id), false) = (progress.id.clone(), progress.canceling) {
                progress.canceling = true;
                progress.cancel_error = None;
                drop(progress);
                let (caller, job) = (Arc::clone(&pending.caller), Arc::clone(job));
                let wake = pending.ctx.clone();
                self.runtime
                    .spawn(cancel_job(caller, id, job, move || wake.request_repaint()));
                return;
            }
        }
        if let Some(pending) = self.pending.take() {
            pending.handle.abort();
            self.status = format!("Cancelled after {:.1} s.", pending.started.elapsed().as_secs_f64());
        }
    }

    fn poll(&mut self) {
        let finished = self
            .pending
            .as_ref()
            .and_then(|p| p.result.lock().unwrap_or_else(PoisonError::into_inner).take());
        let Some(outcome) = finished else { return };
        let elapsed = self.pending.take().map_or(0.0, |p| p.started.elapsed().as_secs_f64());
        match outcome {
            Ok(done) => {
                self.cache.clear();
                self.outputs = done.outputs;
                self.last_request = Some(done.request);
                self.status = format!("Done in {elapsed:.2} s.");
            }
            Err(RunError::Service(err)) if err.body.error_type == "canceled" => {
                self.status = format!("Cancelled after {elapsed:.1} s.");
            }
            Err(err) => {
                // A service's field is a request path (`time[3]`): shown under the input that made it.
                let field = match &err {
                    RunError::Input(e) => e.field.clone(),
                    RunError::Service(e) => e.body.field.as_deref().and_then(|f| self.session.input_for_field(f)),
                    RunError::Present(_) => None,
                };
                self.show_error(field, err.to_string());
                self.status = format!("Failed after {elapsed:.2} s.");
            }
        }
    }

    fn show_error(&mut self, field: Option<String>, message: String) {
        match field.filter(|f| self.session.input_names().contains(f)) {
            Some(field) => {
                self.errors.insert(field, message);
            }
            None => self.banner = Some(message),
        }
    }
}
