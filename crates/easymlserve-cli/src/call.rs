//! `easymlserve call`: one request to a running service, answered at once or, with `--async`, as a job
//! whose queue position, progress, elapsed time and ETA show as a bar on standard error while the
//! result goes to standard output; Ctrl-C cancels the job.

use std::future::Future;
use std::io::Read;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use easymlserve::core::{JobEventKind, JobFailure};
use easymlserve_client::{Client, JobHandle};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// The exit code after Ctrl-C, as a shell reports a process ended by SIGINT.
pub const INTERRUPTED_EXIT: u8 = 130;

/// Ctrl-C ended the command (after the job was canceled): exit with [`INTERRUPTED_EXIT`].
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted")
    }
}

impl std::error::Error for Interrupted {}

/// What `easymlserve call` was asked to do.
pub struct CallArgs {
    /// Base URL of the service.
    pub url: String,
    /// The `--data` argument: inline JSON, `@file.json` or `-`.
    pub data: String,
    /// Seconds to wait for an answer (for a job: for each piece of its event stream).
    pub timeout_secs: f64,
    /// Run the request as a job with a progress bar.
    pub background: bool,
}

/// Runs the call and returns the answer as pretty JSON for standard output.
pub async fn call_service(args: CallArgs) -> Result<String> {
    let request = read_request(&args.data)?;
    let timeout =
        Duration::try_from_secs_f64(args.timeout_secs).context("`--timeout-secs` must be a positive number")?;
    let client = Client::new(args.url)?.timeout(timeout);
    let answer = if args.background {
        run_job(&client, &request).await?
    } else {
        client.process_json(&request).await?
    };
    Ok(serde_json::to_string_pretty(&answer)?)
}

/// Submits the request as a job and follows it to its end, showing its progress.
async fn run_job(client: &Client, request: &serde_json::Value) -> Result<serde_json::Value> {
    let job = client.submit(request).await?;
    let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
    // The first poll installs the handler: from here on Ctrl-C cancels the job instead of ending the
    // process, which is so before anyone sees the job's id.
    let pressed = std::future::poll_fn(|cx| Poll::Ready(ctrl_c.as_mut().poll(cx).is_ready())).await;
    if pressed {
        return Err(cancel(&job).await);
    }
    eprintln!("job {}", job.id());
    let bar = JobBar::new();
    let mut events = job.events();
    loop {
        let event = tokio::select! {
            event = events.next() => event,
            _ = &mut ctrl_c => {
                bar.bar.abandon_with_message("canceling");
                return Err(cancel(&job).await);
            }
        };
        let event = match event {
            Some(Ok(event)) => event,
            Some(Err(err)) => {
                bar.bar.abandon();
                return Err(err).with_context(|| format!("following job {}", job.id()));
            }
            None => anyhow::bail!("the events of job {} ended without a result", job.id()),
        };
        match event.kind {
            JobEventKind::Result(value) => {
                bar.bar.finish_and_clear();
                return Ok(value);
            }
            JobEventKind::Error(failure) => {
                bar.bar.abandon();
                anyhow::bail!("{}", failure_text(job.id(), &failure));
            }
            other => bar.show(&other),
        }
    }
}

/// Asks the server to cancel `job` after Ctrl-C; the error that ends the command.
async fn cancel(job: &JobHandle) -> anyhow::Error {
    match job.cancel().await {
        Ok(_) => eprintln!("canceled job {}", job.id()),
        Err(err) => eprintln!("warning: could not cancel job {}: {err}", job.id()),
    }
    Interrupted.into()
}

fn failure_text(id: &str, failure: &JobFailure) -> String {
    let body = &failure.body;
    let field = body
        .field
        .as_deref()
        .map(|f| format!(", field `{f}`"))
        .unwrap_or_default();
    format!(
        "job {id} failed ({} {}{field}): {}",
        failure.status, body.error_type, body.error
    )
}

/// The progress bar of one job on standard error (hidden when that is not a terminal).
struct JobBar {
    bar: ProgressBar,
    /// The model's last ETA and when it came, so the bar counts it down between reports.
    eta: Arc<Mutex<Option<(Instant, f64)>>>,
}

/// Steps of the bar: a fraction is shown in thousandths.
const STEPS: u64 = 1000;

impl JobBar {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed:>4} {wide_msg}") {
            bar.set_style(style);
        }
        bar.set_message("submitted");
        bar.enable_steady_tick(Duration::from_millis(120));
        Self {
            bar,
            eta: Arc::default(),
        }
    }

    /// Shows a queued, started or progress event.
    fn show(&self, kind: &JobEventKind) {
        let line = status_line(kind);
        if let Ok(mut eta) = self.eta.lock() {
            *eta = line.eta_s.map(|s| (Instant::now(), s));
        }
        if let Some(fraction) = line.fraction {
            if self.bar.length().is_none() {
                let template = "{spinner} {elapsed:>4} [{bar:30}] {percent:>3}% {eta_left}{wide_msg}";
                let eta = Arc::clone(&self.eta);
                let eta_left = move |_: &ProgressState, out: &mut dyn std::fmt::Write| {
                    let Ok(eta) = eta.lock() else { return };
                    if let Some((at, seconds)) = *eta {
                        let _ = write!(out, "ETA {} ", eta_text(seconds - at.elapsed().as_secs_f64()));
                    }
                };
                if let Ok(style) = ProgressStyle::with_template(template) {
                    self.bar
                        .set_style(style.progress_chars("=> ").with_key("eta_left", eta_left));
                }
                self.bar.set_length(STEPS);
            }
            self.bar.set_position((fraction * STEPS as f64).round() as u64);
        }
        self.bar.set_message(line.text);
    }
}

/// What the bar shows for one event: the fraction and ETA, if the event has them, and the words.
#[derive(Debug, PartialEq)]
struct StatusLine {
    fraction: Option<f64>,
    eta_s: Option<f64>,
    text: String,
}

fn status_line(kind: &JobEventKind) -> StatusLine {
    let text = |text: String| StatusLine {
        fraction: None,
        eta_s: None,
        text,
    };
    match kind {
        JobEventKind::Queued { position: 0 } => text("queued, next in line".to_owned()),
        JobEventKind::Queued { position } => text(format!("queued, {position} ahead")),
        JobEventKind::Started {} => text("running".to_owned()),
        JobEventKind::Progress(report) => StatusLine {
            fraction: report.fraction.map(|f| f.clamp(0.0, 1.0)),
            eta_s: report.eta_s.filter(|s| s.is_finite()),
            text: if report.message.is_empty() {
                "running".to_owned()
            } else {
                report.message.clone()
            },
        },
        JobEventKind::Result(_) => text("done".to_owned()),
        JobEventKind::Error(failure) => text(failure.body.error.clone()),
    }
}

/// Seconds left, briefly: `42s`, `3m05s`, `2h04m` (never below `0s`).
fn eta_text(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// Reads the request JSON from the `--data` argument: inline, `@path`, or `-` for stdin.
fn read_request(data: &str) -> Result<serde_json::Value> {
    let text = if data == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the request from standard input")?;
        text
    } else if let Some(path) = data.strip_prefix('@') {
        std::fs::read_to_string(path).with_context(|| format!("cannot read the request file `{path}`"))?
    } else {
        data.to_owned()
    };
    serde_json::from_str(&text).context("the request is not valid JSON")
}

#[cfg(test)]
mod tests {
    use easymlserve::core::{ErrorBody, ProgressReport};

    use super::*;

    fn progress(fraction: Option<f64>, message: &str, eta_s: Option<f64>) -> JobEventKind {
        JobEventKind::Progress(ProgressReport {
            fraction,
            message: message.to_owned(),
            elapsed_s: 1.0,
            eta_s,
        })
    }

    #[test]
    fn the_bar_shows_the_queue_then_the_models_words_and_eta() {
        assert_eq!(
            status_line(&JobEventKind::Queued { position: 2 }).text,
            "queued, 2 ahead"
        );
        assert_eq!(
            status_line(&JobEventKind::Queued { position: 0 }).text,
            "queued, next in line"
        );
        assert_eq!(status_line(&JobEventKind::Started {}).text, "running");
        let line = status_line(&progress(Some(0.5), "tile 3 of 6", Some(12.0)));
        assert_eq!(
            line,
            StatusLine {
                fraction: Some(0.5),
                eta_s: Some(12.0),
                text: "tile 3 of 6".to_owned()
            }
        );
        assert_eq!(status_line(&progress(None, "", None)).text, "running");
        assert_eq!(status_line(&progress(Some(2.0), "", None)).fraction, Some(1.0));
    }

    #[test]
    fn the_eta_is_short_and_never_negative() {
        assert_eq!(eta_text(41.6), "42s");
        assert_eq!(eta_text(185.0), "3m05s");
        assert_eq!(eta_text(7440.0), "2h04m");
        assert_eq!(eta_text(-3.0), "0s");
    }

    #[test]
    fn a_failure_names_the_job_its_status_type_and_field() {
        let failure = JobFailure {
            body: ErrorBody {
                error: "`steps`: must be positive".to_owned(),
                error_type: "invalid_input".to_owned(),
                field: Some("steps".to_owned()),
            },
            status: 422,
        };
        assert_eq!(
            failure_text("j1", &failure),
            "job j1 failed (422 invalid_input, field `steps`): `steps`: must be positive"
        );
    }
}
