//! A request run as a job, for a service that offers jobs: submitted and followed on the network thread
//! (waking the window on every event), and drawn as a progress bar with the model's message, the queue
//! position, the elapsed time, an ETA and Cancel.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use easymlserve_core::{CallError, JobEventKind, ServiceCaller};
use easymlserve_ui::{Completed, InputValues, RunError, UiSession};

/// How often an unreachable service is asked again before the job is given up.
const UNREACHABLE_TRIES: u32 = 5;

/// What the window knows of a running job.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobProgress {
    /// The job's id, once it was submitted.
    pub id: Option<String>,
    /// Requests ahead of it while it waits (0: it is next).
    pub queue_position: Option<u64>,
    /// Whether a worker started on it.
    pub started: bool,
    /// The finished share, 0 to 1, when the model reported one.
    pub fraction: Option<f64>,
    /// The model's last message.
    pub message: String,
    /// Seconds left as the model's last report estimated, and when that report came.
    pub eta: Option<(f64, Instant)>,
    /// Whether Cancel was asked for (the job ends canceled soon).
    pub canceling: bool,
    /// Why asking to cancel failed.
    pub cancel_error: Option<String>,
}

impl JobProgress {
    /// Seconds left by the last estimate, counted down since it came.
    pub fn eta_s(&self) -> Option<f64> {
        self.eta.map(|(eta, at)| (eta - at.elapsed().as_secs_f64()).max(0.0))
    }

    /// The status text: the model's message, the queue position, or what happens.
    pub fn status(&self) -> String {
        if self.canceling {
            return "Canceling…".to_owned();
        }
        match self.queue_position {
            Some(0) => "Queued: next in line".to_owned(),
            Some(ahead) => format!("Queued: {ahead} ahead"),
            None if !self.message.is_empty() => self.message.clone(),
            None if self.started => "Running…".to_owned(),
            None => "Submitted…".to_owned(),
        }
    }
}

/// Shared between the window and the network thread.
pub type SharedProgress = Arc<Mutex<JobProgress>>;

/// Locks the progress, whether or not another thread panicked while holding it.
pub fn lock(progress: &SharedProgress) -> std::sync::MutexGuard<'_, JobProgress> {
    progress.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Prepares the request, submits it as a job on `caller` (which must offer jobs), follows its events
/// into `progress` (calling `wake` after each batch) and presents the answer.
pub async fn run_job(
    session: UiSession,
    values: InputValues,
    caller: Arc<dyn ServiceCaller>,
    progress: SharedProgress,
    wake: impl Fn(),
) -> Result<Completed, RunError> {
    let jobs = caller
        .jobs()
        .ok_or_else(|| RunError::Service(CallError::unreachable("the service offers no jobs")))?;
    let prepared = session.prepare(&values)?;
    let request = prepared.json.clone();
    let id = jobs.submit(request.clone()).await.map_err(RunError::Service)?;
    lock(&progress).id = Some(id.clone());
    wake();
    let mut after = 0;
    let mut unreachable = 0;
    loop {
        let events = match jobs.events_after(&id, after).await {
            Ok(events) => events,
            Err(err) if err.status.is_none() && unreachable + 1 < UNREACHABLE_TRIES => {
                unreachable += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
            Err(err) => return Err(RunError::Service(err)),
        };
        unreachable = 0;
        for event in events {
            if event.id <= after {
                continue;
            }
            after = event.id;
            let mut state = lock(&progress);
            match event.kind {
                JobEventKind::Queued { position } => state.queue_position = Some(position),
                JobEventKind::Started {} => {
                    state.queue_position = None;
                    state.started = true;
                }
                JobEventKind::Progress(report) => {
                    state.queue_position = None;
                    state.started = true;
                    state.fraction = report.fraction.map(|f| f.clamp(0.0, 1.0));
                    state.message = report.message;
                    state.eta = report.eta_s.map(|eta| (eta, Instant::now()));
                }
                JobEventKind::Result(response) => {
                    drop(state);
                    let outputs = session.present(prepared, response)?;
                    return Ok(Completed { request, outputs });
                }
                JobEventKind::Error(failure) => {
                    return Err(RunError::Service(CallError {
                        status: Some(failure.status),
                        body: failure.body,
                    }));
                }
            }
        }
        wake();
    }
}

/// Asks the service to cancel job `id`; a failure is noted in `progress`.
pub async fn cancel_job(caller: Arc<dyn ServiceCaller>, id: String, progress: SharedProgress, wake: impl Fn()) {
    let Some(jobs) = caller.jobs() else { return };
    if let Err(err) = jobs.cancel(&id).await {
        let mut state = lock(&progress);
        state.canceling = false;
        state.cancel_error = Some(format!("Cancel failed: {err}"));
    }
    wake();
}

/// Draws the progress of a job that has run for `elapsed`; returns whether Cancel was clicked.
pub fn progress_ui(ui: &mut egui::Ui, progress: &JobProgress, elapsed: Duration) -> bool {
    let status = progress.status();
    let mut clicked = false;
    ui.horizontal(|ui| {
        let label = ui.label("Progress");
        let bar = egui::ProgressBar::new(progress.fraction.unwrap_or(0.0) as f32)
            .show_percentage()
            .animate(progress.fraction.is_none())
            .desired_width(320.0);
        ui.add(bar).labelled_by(label.id);
        let cancel = if progress.canceling { "Stop waiting" } else { "Cancel" };
        clicked = ui.button(cancel).clicked();
    });
    ui.label(status);
    let mut time = format!("Elapsed {}", seconds(elapsed.as_secs_f64()));
    if let Some(eta) = progress.eta_s() {
        time.push_str(&format!(" · about {} left", seconds(eta)));
    }
    ui.label(time);
    if let Some(error) = &progress.cancel_error {
        ui.colored_label(ui.visuals().error_fg_color, error);
    }
    clicked
}

/// `12 s`, or `2 min 5 s`.
fn seconds(s: f64) -> String {
    let whole = s.round() as u64;
    if whole < 60 {
        format!("{whole} s")
    } else {
        format!("{} min {} s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_says_where_the_job_is() {
        let mut progress = JobProgress::default();
        assert_eq!(progress.status(), "Submitted…");
        progress.queue_position = Some(2);
        assert_eq!(progress.status(), "Queued: 2 ahead");
        progress.queue_position = Some(0);
        assert_eq!(progress.status(), "Queued: next in line");
        progress.queue_position = None;
        progress.started = true;
        assert_eq!(progress.status(), "Running…");
        progress.message = "tile 3 of 6".into();
        assert_eq!(progress.status(), "tile 3 of 6");
        progress.canceling = true;
        assert_eq!(progress.status(), "Canceling…");
        assert_eq!(seconds(4.4), "4 s");
        assert_eq!(seconds(125.0), "2 min 5 s");
    }
}
