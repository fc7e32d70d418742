//! Jobs and event streams over real HTTP: SSE on `POST /process` (order, keep-alive, closing cancels),
//! `Prefer: respond-async` jobs (202, Location, status transitions), event replay after `Last-Event-ID`,
//! cancel of queued and running jobs, idempotent `PUT`, bounds with 503, TTL, delete and API keys.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use easymlserve_core::schemars::JsonSchema;
use easymlserve_core::{Context, Service, ServiceError};
use easymlserve_server::jobs::{JobsConfig, Limits};
use easymlserve_server::{ApiKeys, ServerConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::util::{TestServer, config, error_body};

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct SlowRequest {
    steps: u32,
    step_ms: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct SlowResponse {
    done: u32,
}

/// Works in steps, reporting progress after each and stopping when cancelled; counts steps run.
#[derive(Clone, Default)]
pub(crate) struct Slow {
    saw_cancel: Arc<AtomicBool>,
    steps_run: Arc<AtomicUsize>,
}

impl Service for Slow {
    type Request = SlowRequest;
    type Response = SlowResponse;

    fn process(&self, request: SlowRequest) -> Result<SlowResponse, ServiceError> {
        self.process_with(request, &Context::detached())
    }

    fn process_with(&self, request: SlowRequest, ctx: &Context) -> Result<SlowResponse, ServiceError> {
        for step in 0..request.steps {
            if ctx.is_cancelled() {
                self.saw_cancel.store(true, Ordering::SeqCst);
                return Err(ServiceError::Cancelled);
            }
            std::thread::sleep(Duration::from_millis(request.step_ms));
            self.steps_run.fetch_add(1, Ordering::SeqCst);
            ctx.progress(
                f64::from(step + 1) / f64::from(request.steps),
                format!("step {} of {}", step + 1, request.steps),
            );
        }
        Ok(SlowResponse { done: request.steps })
    }
}

/// One parsed SSE event.
#[derive(Debug, Clone)]
pub(crate) struct Sse {
    pub id: Option<u64>,
    pub name: String,
    pub data: Value,
}

/// Reads events from a streaming response until `max` events, the terminal one, or the end; also
/// returns the raw text seen (comments included).
pub(crate) async fn read_events(response: &mut reqwest::Response, max: usize) -> (Vec<Sse>, String) {
    let mut raw = String::new();
    let mut events = Vec::new();
    let mut pending = String::new();
    while events.len() < max {
        let chunk = tokio::time::timeout(Duration::from_secs(10), response.chunk())
            .await
            .expect("an event within 10 s")
            .expect("read the stream");
        let Some(chunk) = chunk else { break };
        let text = String::from_utf8_lossy(&chunk).replace("\r\n", "\n");
        raw.push_str(&text);
        pending.push_str(&text);
        while let Some(end) = pending.find("\n\n") {
            let block: String = pending.drain(..end + 2).collect();
            let (mut id, mut name, mut data) = (None, String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if name.is_empty() {
                continue; // a comment
            }
            let terminal = name == "result" || name == "error";
            events.push(Sse {
                id,
                name,
                data: serde_json::from_str(&data).expect("event data is JSON"),
            });
            if terminal || events.len() >= max {
                return (events, raw);
            }
        }
    }
    (events, raw)
}

fn names(events: &[Sse]) -> Vec<&str> {
    events.iter().map(|e| e.name.as_str()).collect()
}

fn jobs_config(jobs: JobsConfig) -> ServerConfig {
    ServerConfig { jobs, ..config() }
}

fn quick_keep_alive() -> JobsConfig {
    JobsConfig {
        keep_alive: Duration::from_millis(100),
        ..JobsConfig::default()
    }
}

impl TestServer {
    async fn stream(&self, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/process", self.url))
            .header("accept", "text/event-stream")
            .json(&body)
            .send()
            .await
            .expect("send")
    }

    pub(crate) async fn submit(&self, body: Value) -> (String, reqwest::Response) {
        let response = self
            .http
            .post(format!("{}/process", self.url))
            .header("prefer", "respond-async")
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 202, "a job is accepted");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        (location, response)
    }

    pub(crate) async fn job(&self, location: &str) -> Value {
        let response = self.get(location).await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn wait_status(&self, location: &str, status: &str) -> Value {
        for _ in 0..500 {
            let job = self.job(location).await;
            if job["status"] == status {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{location} never became {status}: {}", self.job(location).await);
    }

    pub(crate) async fn events(&self, location: &str, last_event_id: Option<u64>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{location}/events", self.url));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        request.send().await.expect("send")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_process_sends_started_progress_then_one_result_with_keep_alives() {
    let server = TestServer::start(Slow::default(), jobs_config(quick_keep_alive())).await;
    let mut response = server.stream(json!({"steps": 3, "step_ms": 250})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let (mut events, raw) = read_events(&mut response, 100).await;
    // A `queued` event (position 0) may come first, before a worker takes the request.
    events.retain(|e| e.name != "queued");
    assert_eq!(
        names(&events),
        ["started", "progress", "progress", "progress", "result"],
        "{raw}"
    );
    let fractions: Vec<f64> = events[1..4]
        .iter()
        .map(|e| e.data["fraction"].as_f64().unwrap())
        .collect();
    assert!(fractions.windows(2).all(|w| w[0] < w[1]), "{fractions:?}");
    assert_eq!(events[3].data["message"], "step 3 of 3");
    assert!(events[1].data["eta_s"].as_f64().unwrap() > 0.0, "{:?}", events[1].data);
    assert_eq!(
        events[4].data,
        json!({"done": 3}),
        "the result is what /process returns"
    );
    assert!(
        raw.contains(": keep-alive"),
        "keep-alive comments while the model works: {raw}"
    );
    assert!(
        events.iter().all(|e| e.id.is_none()),
        "a plain stream cannot be resumed, so it has no ids"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_body_gets_its_json_error_not_a_stream_or_a_job() {
    let server = TestServer::start(Slow::default(), config()).await;
    let response = server.stream(json!({"steps": "many", "step_ms": 1})).await;
    let (status, body) = error_body(response).await;
    assert_eq!(status, 422);
    assert_eq!(body["field"], "steps", "{body}");
    let response = server
        .http
        .post(format!("{}/process", server.url))
        .header("prefer", "respond-async")
        .json(&json!({"steps": 1}))
        .send()
        .await
        .unwrap();
    let (status, body) = error_body(response).await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_stream_cancels_the_request() {
    let slow = Slow::default();
    let server = TestServer::start(slow.clone(), config()).await;
    let mut response = server.stream(json!({"steps": 500, "step_ms": 10})).await;
    let (events, _) = read_events(&mut response, 3).await;
    let names: Vec<&str> = names(&events).into_iter().filter(|n| *n != "queued").collect();
    assert_eq!(names[..2], ["started", "progress"], "{events:?}");
    drop(response);
    for _ in 0..300 {
        if slow.saw_cancel.load(Ordering::SeqCst) {
            assert!(slow.steps_run.load(Ordering::SeqCst) < 500);
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the model never saw its cancellation flag after the stream closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_goes_from_queued_to_running_to_succeeded() {
    let server = TestServer::start(Slow::default(), ServerConfig { workers: 1, ..config() }).await;
    let (first, _) = server.submit(json!({"steps": 10, "step_ms": 30})).await;
    let (second, response) = server.submit(json!({"steps": 2, "step_ms": 10})).await;
    assert_eq!(response.headers()["preference-applied"], "respond-async");
    assert!(second.starts_with("/jobs/job-"), "{second}");
    let queued: Value = response.json().await.unwrap();
    assert_eq!(queued["status"], "queued", "{queued}");
    assert!(queued["created_at"].as_str().unwrap().ends_with('Z'), "{queued}");
    // Once the one worker has taken the first job, the second is next in the queue (asked before that,
    // the first may still be queued ahead of it).
    let running = server.wait_status(&first, "running").await;
    assert!(running["started_at"].is_string(), "{running}");
    let waiting = server.job(&second).await;
    assert_eq!(
        waiting["status"], "queued",
        "one worker is busy with the first: {waiting}"
    );
    assert_eq!(waiting["queue_position"], 0, "{waiting}");
    let done = server.wait_status(&second, "succeeded").await;
    assert_eq!(done["result"], json!({"done": 2}));
    assert_eq!(done["progress"], 1.0);
    assert!(
        done["finished_at"].is_string() && done["queue_position"].is_null(),
        "{done}"
    );
    let first_done = server.wait_status(&first, "succeeded").await;
    assert_eq!(first_done["message"], "step 10 of 10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_events_have_ids_and_replay_after_last_event_id() {
    let server = TestServer::start(Slow::default(), ServerConfig { workers: 1, ..config() }).await;
    let (blocker, _) = server.submit(json!({"steps": 3, "step_ms": 100})).await;
    let (job, _) = server.submit(json!({"steps": 6, "step_ms": 150})).await;
    let mut stream = server.events(&job, None).await;
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // Queued (once per position, falling as the blocker is taken), started, then the first progress.
    let mut first = Vec::new();
    while first.last().is_none_or(|e: &Sse| e.name != "progress") {
        let (more, _) = read_events(&mut stream, 1).await;
        first.extend(more);
    }
    let started = first.iter().position(|e| e.name == "started").expect("a started event");
    assert!(
        started >= 1 && first[..started].iter().all(|e| e.name == "queued"),
        "{first:?}"
    );
    let positions: Vec<u64> = first[..started]
        .iter()
        .map(|e| e.data["position"].as_u64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] > w[1]) && positions.last() == Some(&0),
        "{positions:?}"
    );
    let ids: Vec<u64> = first.iter().map(|e| e.id.unwrap()).collect();
    assert_eq!(ids, (1..=first.len() as u64).collect::<Vec<_>>());
    let resume_after = first[started].id.unwrap();
    drop(stream); // the connection drops mid-job
    let mut resumed = server.events(&job, Some(resume_after)).await;
    let (rest, _) = read_events(&mut resumed, 100).await;
    assert_eq!(
        rest[0].id,
        Some(resume_after + 1),
        "replay starts after Last-Event-ID: {rest:?}"
    );
    assert_eq!(rest[0].name, "progress");
    let last = rest.last().unwrap();
    assert_eq!(last.name, "result");
    assert_eq!(last.data, json!({"done": 6}));
    assert!(rest.windows(2).all(|w| w[0].id < w[1].id));
    // After the end, the terminal event is still there to replay.
    let mut again = server.events(&job, Some(0)).await;
    let (all, _) = read_events(&mut again, 100).await;
    assert_eq!(all.last().unwrap().name, "result");
    let mut after_end = server.events(&job, Some(last.id.unwrap())).await;
    let (none, _) = read_events(&mut after_end, 100).await;
    assert!(none.is_empty(), "nothing after the terminal event: {none:?}");
    server.wait_status(&blocker, "succeeded").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canceling_a_running_job_sets_the_models_flag_and_counts_it_canceled() {
    let slow = Slow::default();
    let server = TestServer::start(slow.clone(), config()).await;
    let (job, _) = server.submit(json!({"steps": 1000, "step_ms": 10})).await;
    server.wait_status(&job, "running").await;
    let response = server
        .http
        .post(format!("{}{job}/cancel", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let state: Value = response.json().await.unwrap();
    assert_eq!(state["status"], "canceled", "{state}");
    assert_eq!(state["error"]["error_type"], "canceled");
    for _ in 0..300 {
        if slow.saw_cancel.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(slow.saw_cancel.load(Ordering::SeqCst), "the running model saw its flag");
    let mut events = server.events(&job, None).await;
    let (events, _) = read_events(&mut events, 1000).await;
    let last = events.last().unwrap();
    assert_eq!(
        (last.name.as_str(), &last.data["error_type"]),
        ("error", &json!("canceled"))
    );
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("easymlserve_jobs_total{outcome=\"canceled\"} 1"),
        "{metrics}"
    );
    assert!(!metrics.contains("outcome=\"succeeded\""), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canceling_a_queued_job_means_it_never_runs() {
    let slow = Slow::default();
    let server = TestServer::start(slow.clone(), ServerConfig { workers: 1, ..config() }).await;
    let (first, _) = server.submit(json!({"steps": 20, "step_ms": 20})).await;
    let (queued, _) = server.submit(json!({"steps": 7, "step_ms": 1})).await;
    assert_eq!(server.job(&queued).await["status"], "queued");
    let response = server
        .http
        .post(format!("{}{queued}/cancel", server.url))
        .send()
        .await
        .unwrap();
    let state: Value = response.json().await.unwrap();
    assert_eq!(state["status"], "canceled", "{state}");
    assert!(state["started_at"].is_null(), "{state}");
    server.wait_status(&first, "succeeded").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        slow.steps_run.load(Ordering::SeqCst),
        20,
        "only the first job's steps ran"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_with_a_chosen_id_is_idempotent() {
    let slow = Slow::default();
    let server = TestServer::start(slow.clone(), config()).await;
    let put = |body: Value| {
        server
            .http
            .put(format!("{}/jobs/retry-me.1", server.url))
            .json(&body)
            .send()
    };
    let first = put(json!({"steps": 3, "step_ms": 20})).await.unwrap();
    assert_eq!(first.status(), 202);
    assert_eq!(first.headers()["location"], "/jobs/retry-me.1");
    let again = put(json!({"steps": 3, "step_ms": 20})).await.unwrap();
    assert_eq!(again.status(), 200, "a retry finds the job");
    let state: Value = again.json().await.unwrap();
    assert_eq!(state["id"], "retry-me.1");
    let other = put(json!({"steps": 4, "step_ms": 20})).await.unwrap();
    let (status, body) = error_body(other).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (409, Some("job_conflict")),
        "{body}"
    );
    server.wait_status("/jobs/retry-me.1", "succeeded").await;
    assert_eq!(slow.steps_run.load(Ordering::SeqCst), 3, "the model ran once");
    let bad = server
        .http
        .put(format!("{}/jobs/has%20space", server.url))
        .json(&json!({"steps": 1, "step_ms": 1}))
        .send()
        .await
        .unwrap();
    let (status, body) = error_body(bad).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("id")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_bounds_new_jobs_get_503_and_finished_ones_expire() {
    let jobs = JobsConfig {
        limits: Limits {
            max_jobs: 2,
            ttl: Duration::from_millis(300),
            ..Limits::default()
        },
        ..JobsConfig::default()
    };
    let server = TestServer::start(Slow::default(), jobs_config(jobs)).await;
    let (a, _) = server.submit(json!({"steps": 1, "step_ms": 1})).await;
    let (b, _) = server.submit(json!({"steps": 1, "step_ms": 1})).await;
    let third = server
        .http
        .post(format!("{}/process", server.url))
        .header("prefer", "respond-async")
        .json(&json!({"steps": 1, "step_ms": 1}))
        .send()
        .await
        .unwrap();
    assert!(third.headers().contains_key("retry-after"));
    let (status, body) = error_body(third).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (503, Some("jobs_full")),
        "{body}"
    );
    server.wait_status(&a, "succeeded").await;
    server.wait_status(&b, "succeeded").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (status, body) = error_body(server.get(&a).await).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (404, Some("job_not_found")),
        "{body}"
    );
    server.submit(json!({"steps": 1, "step_ms": 1})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_job_is_gone() {
    let server = TestServer::start(Slow::default(), config()).await;
    let (job, _) = server.submit(json!({"steps": 1, "step_ms": 1})).await;
    server.wait_status(&job, "succeeded").await;
    let response = server.http.delete(format!("{}{job}", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(server.get(&job).await.status(), 404);
    assert_eq!(server.events(&job, None).await.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_read_only_with_the_key_that_submitted_it() {
    let config = ServerConfig {
        api_keys: ApiKeys::parse_list("alice-key,bob-key"),
        ..config()
    };
    let server = TestServer::start(Slow::default(), config).await;
    let response = server
        .http
        .post(format!("{}/process", server.url))
        .header("prefer", "respond-async")
        .bearer_auth("alice-key")
        .json(&json!({"steps": 1, "step_ms": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let job = response.headers()["location"].to_str().unwrap().to_owned();
    let url = format!("{}{job}", server.url);
    assert_eq!(server.http.get(&url).send().await.unwrap().status(), 401);
    let bob = server.http.get(&url).bearer_auth("bob-key").send().await.unwrap();
    let (status, body) = error_body(bob).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
    let bob_events = server
        .http
        .get(format!("{url}/events"))
        .header("x-api-key", "bob-key")
        .send()
        .await;
    assert_eq!(bob_events.unwrap().status(), 403);
    let bob_cancel = server
        .http
        .post(format!("{url}/cancel"))
        .bearer_auth("bob-key")
        .send()
        .await;
    assert_eq!(bob_cancel.unwrap().status(), 403);
    let alice = server
        .http
        .get(&url)
        .header("x-api-key", "alice-key")
        .send()
        .await
        .unwrap();
    assert_eq!(alice.status(), 200, "the same key by the other header");
}

/// A server on 127.0.0.1:0 whose state the test keeps, to drain its jobs as the shutdown sequence does.
async fn served(config: ServerConfig) -> (TestServer, easymlserve_server::AppState) {
    let (state, router) = easymlserve_server::Server::new(Slow::default())
        .config(config)
        .into_parts();
    state.load().await.expect("the model loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (TestServer::attach(url), state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draining_the_memory_store_fails_an_unfinished_job_with_shutting_down_and_refuses_new_ones() {
    let (server, state) = served(ServerConfig { workers: 1, ..config() }).await;
    let (running, _) = server.submit(json!({"steps": 400, "step_ms": 25})).await;
    let (queued, _) = server.submit(json!({"steps": 1, "step_ms": 1})).await;
    server.wait_status(&running, "running").await;
    let jobs = Arc::clone(state.jobs());
    let drain = tokio::spawn(async move { jobs.drain(std::time::Instant::now() + Duration::from_millis(300)).await });
    // A submit while draining is refused so that a balancer retries it elsewhere.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let refused = server
        .http
        .post(format!("{}/process", server.url))
        .header("prefer", "respond-async")
        .json(&json!({"steps": 1, "step_ms": 1}))
        .send()
        .await
        .unwrap();
    assert!(refused.headers().contains_key("retry-after"), "{:?}", refused.headers());
    let (status, body) = error_body(refused).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (503, Some("shutting_down")),
        "{body}"
    );
    let report = drain.await.unwrap();
    // The running job and the one queued behind it were both unfinished at the deadline.
    assert_eq!((report.failed, report.handed_back), (2, 0), "{report}");
    let failed = server.wait_status(&running, "failed").await;
    assert_eq!(failed["error"]["error_type"], "shutting_down", "{failed}");
    assert_eq!(failed["error"]["status"], 503, "{failed}");
    assert!(
        failed["error"]["error"].as_str().unwrap().contains("submit it again"),
        "{failed}"
    );
    // The terminal event says the same to a client following the events.
    let mut events = server.events(&running, None).await;
    let (seen, _) = read_events(&mut events, 1000).await;
    let last = seen.last().expect("events");
    assert_eq!(last.name, "error");
    assert_eq!(last.data["error_type"], "shutting_down", "{:?}", last.data);
    // Memory store: nothing to hand the queued job to, so it fails the same way.
    let other = server.wait_status(&queued, "failed").await;
    assert_eq!(other["error"]["error_type"], "shutting_down", "{other}");
}
