//! The UI runner: parses the form against the UI's inputs, runs `prepare_request`, calls the service,
//! runs `process_response`, and checks the outputs against the UI's spec. A plain submission is
//! stateless; a job keeps its prepared request in the runner's [`JobBook`] until its answer is shown,
//! and a job another replica's page submitted gets it rebuilt from the request in the job store.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use easymlserve_core::{CallError, JobCaller, JobFailure, ServiceCaller};
use easymlserve_ui::{DynUi, Example, OutputEntry, RawInput, RunError, UiSession, UiSpec};
use serde::Serialize;

use crate::error::UiApiError;
use crate::examples::ExampleCache;
use crate::jobs::{JobBook, Owner, PageJob};

/// What the page needs to know besides the components.
#[derive(Debug, Clone, Serialize)]
pub struct PageInfo {
    /// The URL of `POST /process` for the "use via API" panel; `None` means this page's own origin.
    pub process_url: Option<String>,
    /// Whether the page must ask for an API key.
    pub auth_required: bool,
}

/// `GET /ui/spec`: the components and the page info.
#[derive(Debug, Clone, Serialize)]
pub struct PageSpec {
    /// Title, description, inputs and outputs.
    #[serde(flatten)]
    pub ui: UiSpec,
    /// Page settings.
    pub page: PageInfo,
    /// Whether the service offers jobs, so the page submits with `/ui/jobs` and shows progress.
    pub jobs: bool,
    /// Whether the examples' outputs are computed at start (`--cache-examples`), so a click on one
    /// shows `GET /ui/examples/{i}/result` without a submit.
    pub cached_examples: bool,
}

/// The answer of a submission.
#[derive(Debug, Clone, Serialize)]
pub struct SubmitAnswer {
    /// One entry per output. The request is not echoed: the page's "use via API" panel asks for it
    /// (`POST /ui/request`, `GET /ui/jobs/{id}/request`) only when it is opened.
    pub outputs: Vec<OutputEntry>,
    /// Time from receiving the form to the answer, in milliseconds.
    pub elapsed_ms: u64,
}

/// A preview of an uploaded file, shown before submitting (shared with the desktop GUI).
pub use easymlserve_ui::Preview;

/// Builds the UI once the served model's spec is known (a form generated from a request schema that
/// a Python worker or an ONNX file reports when it has loaded); `None` until then.
pub type UiSource = Arc<dyn Fn() -> Option<Arc<dyn DynUi>> + Send + Sync>;

/// The service's name and description (its `info()`), shown when the UI leaves its title or
/// description empty; `None` while they are unknown.
pub type ServiceTexts = Arc<dyn Fn() -> Option<(String, String)> + Send + Sync>;

/// The UI of a runner: given at once, or built on first use once the model is loaded.
enum Session {
    Fixed(UiSession),
    Lazy { cell: OnceLock<UiSession>, build: UiSource },
}

/// Runs one UI against one service for the page.
pub struct UiRunner {
    session: Session,
    caller: Arc<dyn ServiceCaller>,
    page: PageInfo,
    body_limit: usize,
    jobs: JobBook,
    texts: Option<ServiceTexts>,
    cache: ExampleCache,
}

impl UiRunner {
    /// A runner for `ui` calling `caller`.
    pub fn new(ui: Arc<dyn DynUi>, caller: Arc<dyn ServiceCaller>, page: PageInfo, body_limit: usize) -> Self {
        Self {
            session: Session::Fixed(UiSession::new(ui)),
            caller,
            page,
            body_limit,
            jobs: JobBook::default(),
            texts: None,
            cache: ExampleCache::default(),
        }
    }

    /// A runner whose UI is built by `build` the first time it is needed after the model has loaded;
    /// until then the GUI routes answer 503.
    pub fn lazy(build: UiSource, caller: Arc<dyn ServiceCaller>, page: PageInfo, body_limit: usize) -> Self {
        Self {
            session: Session::Lazy {
                cell: OnceLock::new(),
                build,
            },
            caller,
            page,
            body_limit,
            jobs: JobBook::default(),
            texts: None,
            cache: ExampleCache::default(),
        }
    }

    /// Fills an empty title or description of the UI from the service's `texts`.
    #[must_use]
    pub fn with_service_texts(mut self, texts: ServiceTexts) -> Self {
        self.texts = Some(texts);
        self
    }

    /// Computes the examples' outputs once the model is ready (see [`crate::cache_examples`], which
    /// does it) when `enabled`.
    #[must_use]
    pub fn with_cached_examples(mut self, enabled: bool) -> Self {
        self.cache = ExampleCache::new(enabled);
        self
    }

    /// The examples' outputs computed at start.
    pub fn example_cache(&self) -> &ExampleCache {
        &self.cache
    }

    /// The UI's examples, with their files.
    pub fn examples(&self) -> Result<&[Example], UiApiError> {
        Ok(self.session()?.examples())
    }

    /// The UI session, once the UI exists.
    fn session(&self) -> Result<&UiSession, UiApiError> {
        match &self.session {
            Session::Fixed(session) => Ok(session),
            Session::Lazy { cell, build } => {
                if let Some(session) = cell.get() {
                    return Ok(session);
                }
                let ui = build().ok_or_else(UiApiError::not_ready)?;
                Ok(cell.get_or_init(|| UiSession::new(ui)))
            }
        }
    }

    /// The page spec.
    pub fn page_spec(&self) -> Result<PageSpec, UiApiError> {
        let mut ui = self.session()?.spec().clone();
        if let Some((name, description)) = self.texts.as_ref().and_then(|texts| texts()) {
            fill_texts(&mut ui, name, description);
        }
        Ok(PageSpec {
            ui,
            page: self.page.clone(),
            jobs: self.caller.jobs().is_some(),
            cached_examples: self.cache.enabled(),
        })
    }

    /// Names of the inputs.
    pub fn input_names(&self) -> Result<&[String], UiApiError> {
        Ok(self.session()?.input_names())
    }

    /// The upload limit in bytes.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// Runs a whole submission.
    pub async fn submit(&self, raw: BTreeMap<String, RawInput>) -> Result<SubmitAnswer, UiApiError> {
        let started = Instant::now();
        let session = self.session()?;
        let values = session.parse_inputs(raw).map_err(UiApiError::invalid)?;
        let mut prepared = session.prepare(&values).map_err(|err| run_error(err, session))?;
        // The request JSON goes to the caller as is (no copy, no bytes); the answer comes back as the
        // model's JSON bytes, read once into the UI's response type.
        let request = std::mem::take(&mut prepared.json);
        let answer = self
            .caller
            .call_bytes(request)
            .await
            .map_err(|err| run_error(RunError::Service(err), session))?;
        let outputs = session
            .present_bytes(prepared, &answer)
            .map_err(|err| run_error(err, session))?;
        Ok(SubmitAnswer {
            outputs: outputs.0,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
    }

    /// The request the form would send, for the page's "use via API" panel: the inputs parsed and
    /// `prepare_request` run, the service not called.
    pub fn request_of(&self, raw: BTreeMap<String, RawInput>) -> Result<serde_json::Value, UiApiError> {
        let session = self.session()?;
        let values = session.parse_inputs(raw).map_err(UiApiError::invalid)?;
        let prepared = session.prepare(&values).map_err(|err| run_error(err, session))?;
        Ok(prepared.json)
    }

    /// The request of a job the page submitted, as the job store keeps it, for `owner`.
    pub async fn job_request(&self, id: &str, owner: Owner) -> Result<serde_json::Value, UiApiError> {
        self.job(id, owner).await?;
        let session = self.session()?;
        self.job_caller()?
            .request(id)
            .await
            .map_err(|err| run_error(RunError::Service(err), session))?
            .ok_or_else(|| UiApiError::no_job(id))
    }

    /// The service's jobs; 501 when it offers none.
    pub fn job_caller(&self) -> Result<&dyn JobCaller, UiApiError> {
        self.caller.jobs().ok_or_else(UiApiError::no_jobs)
    }

    /// Who sends `headers`, as the job routes compare it.
    pub fn owner(&self, headers: &axum::http::HeaderMap) -> Owner {
        self.jobs.owner(headers)
    }

    /// Parses the form, prepares the request and submits it as a job; returns the job's id.
    pub async fn submit_job(&self, raw: BTreeMap<String, RawInput>, owner: Owner) -> Result<String, UiApiError> {
        let session = self.session()?;
        let jobs = self.job_caller()?;
        let values = session.parse_inputs(raw).map_err(UiApiError::invalid)?;
        let mut prepared = session.prepare(&values).map_err(|err| run_error(err, session))?;
        // The page's job keeps the typed request for `process_response`; the JSON goes to the service.
        let id = jobs
            .submit(std::mem::take(&mut prepared.json))
            .await
            .map_err(|err| UiApiError::from_service(err, session))?;
        self.jobs.insert(id.clone(), owner, prepared);
        Ok(id)
    }

    /// A job the page submitted, for `owner`. Behind a balancer without sticky sessions the page may
    /// have submitted it through another replica: then its request is read back from the job store
    /// and prepared again here. Only jobs without an owner key can be read so (the GUI's own jobs);
    /// the GUI routes have checked the caller's key already.
    pub async fn job(&self, id: &str, owner: Owner) -> Result<Arc<PageJob>, UiApiError> {
        match self.jobs.get(id, owner) {
            Err(err) if err.status == 404 => {}
            known => return known,
        }
        let session = self.session()?;
        let json = self
            .job_caller()?
            .request(id)
            .await
            .map_err(|err| UiApiError::from_call(err, session.input_names()))?
            .ok_or_else(|| UiApiError::no_job(id))?;
        let prepared = session.restore(json).map_err(|err| run_error(err, session))?;
        self.jobs.insert(id.to_owned(), owner, prepared);
        self.jobs.get(id, owner)
    }

    /// The outputs of `job` from the service's `response`, rendered by `process_response` the first time.
    pub async fn show_job(&self, job: &PageJob, response: serde_json::Value) -> Result<SubmitAnswer, UiApiError> {
        let session = self.session()?;
        job.show(|prepared| {
            let outputs = session
                .present(prepared, response)
                .map_err(|err| run_error(err, session))?;
            Ok(SubmitAnswer {
                outputs: outputs.0,
                elapsed_ms: job.submitted.elapsed().as_millis() as u64,
            })
        })
        .await
    }

    /// A job's failure as the page shows it: a request `field` becomes the input that produced it.
    pub fn job_error(&self, failure: JobFailure) -> UiApiError {
        let err = CallError {
            status: Some(failure.status),
            body: failure.body,
        };
        match self.session() {
            Ok(session) => UiApiError::from_service(err, session),
            Err(_) => UiApiError::from_call(err, &[]),
        }
    }

    /// Parses one uploaded file as its input would, and describes it.
    pub fn preview(&self, name: &str, raw: RawInput) -> Result<Preview, UiApiError> {
        let input = self
            .session()?
            .spec()
            .inputs
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| UiApiError::bad_form(format!("the form has no input named `{name}`")))?;
        Preview::parse(input, raw)
            .map_err(UiApiError::invalid)?
            .ok_or_else(|| UiApiError::bad_form(format!("`{name}` is not a file input")))
    }
}

/// Puts the service's `name` and `description` where `ui` has no title or description of its own.
pub fn fill_texts(ui: &mut UiSpec, name: String, description: String) {
    if ui.title.is_empty() {
        ui.title = name;
    }
    if ui.description.is_empty() {
        ui.description = description;
    }
}

/// A run's error as the page shows it.
fn run_error(err: RunError, session: &UiSession) -> UiApiError {
    match err {
        RunError::Input(e) => UiApiError::invalid(e),
        RunError::Service(e) => UiApiError::from_service(e, session),
        RunError::Present(e) => UiApiError::presentation(e),
    }
}
