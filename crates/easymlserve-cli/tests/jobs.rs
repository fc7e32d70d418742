//! `easymlserve call --async` against a real server on 127.0.0.1:0 running a model that works in steps:
//! the result on standard output, a failed job's error and exit code 1, and Ctrl-C (SIGINT) canceling
//! the job on the server and exiting with 130.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use easymlserve::core::{Capabilities, JobStatus};
use easymlserve::prelude::*;
use easymlserve::serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");

#[derive(Deserialize, JsonSchema)]
struct StepsRequest {
    steps: u32,
    step_ms: u64,
    /// Fail with an invalid-input error at this step.
    #[serde(default)]
    fail_at: Option<u32>,
}

#[derive(Serialize, JsonSchema)]
struct StepsResponse {
    done: u32,
}

/// Reports progress after each step and stops once canceled; counts the steps it finished.
#[derive(Clone, Default)]
struct Steps {
    finished: Arc<AtomicU32>,
}

impl Service for Steps {
    type Request = StepsRequest;
    type Response = StepsResponse;

    fn process(&self, request: StepsRequest) -> Result<StepsResponse, ServiceError> {
        self.process_with(request, &Context::detached())
    }

    fn process_with(&self, request: StepsRequest, ctx: &Context) -> Result<StepsResponse, ServiceError> {
        for step in 0..request.steps {
            ctx.check_cancelled()?;
            if request.fail_at == Some(step) {
                return Err(ServiceError::invalid_field(
                    "steps",
                    format!("step {step} cannot be done"),
                ));
            }
            std::thread::sleep(Duration::from_millis(request.step_ms));
            self.finished.fetch_add(1, Ordering::SeqCst);
            ctx.progress(
                f64::from(step + 1) / f64::from(request.steps),
                format!("step {}", step + 1),
            );
        }
        Ok(StepsResponse { done: request.steps })
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            cancellation: true,
            progress: true,
            ..Capabilities::default()
        }
    }
}

fn call_async(url: &str, request: &Value) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["call", "--async", "--url", url, "--data", &request.to_string()])
        .env_remove("EASYMLSERVE_API_KEY");
    command
}

async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_async_prints_the_result_of_the_job() {
    let url = easymlserve_testkit::serve(Server::new(Steps::default())).await;
    let out = output(call_async(&url, &json!({"steps": 3, "step_ms": 20}))).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!({"done": 3})
    );
    let id = stderr.lines().find_map(|l| l.strip_prefix("job ")).unwrap();
    let state = Client::new(&url).unwrap().job(id).unwrap().status().await.unwrap();
    assert_eq!(state.status, JobStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_job_prints_its_error_and_exits_with_1() {
    let url = easymlserve_testkit::serve(Server::new(Steps::default())).await;
    let out = output(call_async(&url, &json!({"steps": 3, "step_ms": 5, "fail_at": 1}))).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("failed (422 invalid_input, field `steps`)") && stderr.contains("step 1 cannot be done"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    // A request the server refuses before it becomes a job fails the same way, with its 422.
    let out = output(call_async(&url, &json!({"steps": "many", "step_ms": 5}))).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("422"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_the_job_and_exits_with_130() {
    let service = Steps::default();
    let finished = Arc::clone(&service.finished);
    let url = easymlserve_testkit::serve(Server::new(service)).await;
    // 200 steps of 25 ms: five seconds unless canceled.
    let mut command = call_async(&url, &json!({"steps": 200, "step_ms": 25}));
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let id = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        (line.trim().strip_prefix("job ").map(str::to_owned), stderr)
    })
    .await
    .unwrap();
    let (Some(id), mut stderr) = id else {
        panic!("no job id on standard error")
    };
    let job = Client::new(&url).unwrap().job(&id).unwrap();
    let started = Instant::now();
    while job.status().await.unwrap().progress.is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the job never reported progress"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let (status, rest) = tokio::task::spawn_blocking(move || {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        (child.wait().unwrap(), rest)
    })
    .await
    .unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(rest.contains(&format!("canceled job {id}")), "{rest}");
    // The cancel was asked for before the command exited; the model stops at its next step.
    let mut state = job.status().await.unwrap();
    while !state.status.is_terminal() && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(10)).await;
        state = job.status().await.unwrap();
    }
    assert_eq!(state.status, JobStatus::Canceled, "{state:?}");
    assert!(finished.load(Ordering::SeqCst) < 200, "the model stopped early");
}
