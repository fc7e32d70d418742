//! `/ui/jobs`, its event stream and cancel over HTTP, with a job caller that plays a script: what passes
//! through, what becomes `outputs` and `error`, `Last-Event-ID`, owners, and a service without jobs;
//! then a standalone GUI following a real service's job over REST.

use std::sync::{Arc, Mutex};

use easymlserve_core::{
    BoxFuture, CallError, ErrorBody, JobCaller, JobEvent, JobEventKind, JobFailure, ProgressReport, ServiceCaller,
};
use easymlserve_server::{Server, ServerConfig};
use easymlserve_web::{PageInfo, UiRunner, WebUi, ui_routes};
use reqwest::multipart::Form;
use serde_json::{Value, json};

use super::{Steps, StepsUi};

/// Answers every job with a fixed script chosen by the request's text.
#[derive(Default)]
struct Scripted {
    offers_jobs: bool,
    /// The text of each job submitted; job `job-N` is the Nth.
    texts: Mutex<Vec<String>>,
    canceled: Mutex<Vec<String>>,
}

fn failure(status: u16, error_type: &str, field: Option<&str>) -> JobFailure {
    JobFailure {
        body: ErrorBody {
            error: format!("{error_type} happened"),
            error_type: error_type.to_owned(),
            field: field.map(str::to_owned),
        },
        status,
    }
}

impl Scripted {
    /// The script of job `id`: queued, started, halfway, then the end its text asks for.
    fn script(&self, id: &str) -> Vec<JobEventKind> {
        let n: usize = id.strip_prefix("job-").unwrap().parse().unwrap();
        let text = self.texts.lock().unwrap()[n - 1].clone();
        let end = match text.as_str() {
            "fails" => JobEventKind::Error(failure(422, "validation_error", Some("steps"))),
            "fails elsewhere" => JobEventKind::Error(failure(500, "model_error", Some("not_an_input"))),
            "canceled" => JobEventKind::Error(failure(409, "canceled", None)),
            "bad answer" => JobEventKind::Result(json!({"unexpected": true})),
            _ => JobEventKind::Result(json!({"text": text.to_uppercase()})),
        };
        vec![
            JobEventKind::Queued { position: 1 },
            JobEventKind::Started {},
            JobEventKind::Progress(ProgressReport::new(Some(0.5), "halfway".into(), 1.0)),
            end,
        ]
    }
}

impl ServiceCaller for Scripted {
    fn call(&self, _: Value) -> BoxFuture<'_, Result<Value, CallError>> {
        Box::pin(async { Ok(json!({"text": "PLAIN"})) })
    }

    fn jobs(&self) -> Option<&dyn JobCaller> {
        self.offers_jobs.then_some(self as &dyn JobCaller)
    }
}

impl JobCaller for Scripted {
    fn submit(&self, request: Value) -> BoxFuture<'_, Result<String, CallError>> {
        Box::pin(async move {
            let text = request["text"].as_str().unwrap().to_owned();
            if text == "refused" {
                let body = failure(422, "validation_error", Some("text")).body;
                return Err(CallError {
                    status: Some(422),
                    body,
                });
            }
            let mut texts = self.texts.lock().unwrap();
            texts.push(text);
            Ok(format!("job-{}", texts.len()))
        })
    }

    fn events_after<'a>(&'a self, id: &'a str, after: u64) -> BoxFuture<'a, Result<Vec<JobEvent>, CallError>> {
        Box::pin(async move {
            Ok((1..)
                .zip(self.script(id))
                .filter(|(n, _)| *n > after)
                .map(|(id, kind)| JobEvent { id, kind })
                .collect())
        })
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            self.canceled.lock().unwrap().push(id.to_owned());
            Ok(())
        })
    }
}

/// Serves the GUI of `StepsUi` over `caller`; returns its URL.
async fn start(caller: Arc<Scripted>) -> String {
    let page = PageInfo {
        process_url: None,
        auth_required: false,
    };
    let routes = ui_routes(Arc::new(UiRunner::new(Arc::new(StepsUi), caller, page, 1 << 20)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, routes.public.merge(routes.protected)).await });
    url
}

fn jobs() -> Arc<Scripted> {
    Arc::new(Scripted {
        offers_jobs: true,
        ..Scripted::default()
    })
}

fn form(text: &str) -> Form {
    Form::new()
        .text("text", text.to_owned())
        .text("steps", "2")
        .text("step_ms", "0")
}

async fn submit(url: &str, text: &str, key: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/ui/jobs"))
        .header("x-api-key", key)
        .multipart(form(text))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// The events of a stream: (name, id, data) of each, in order.
async fn events(url: &str, job: &str, key: &str, after: Option<u64>) -> Vec<(String, Option<u64>, Value)> {
    let mut request = reqwest::Client::new()
        .get(format!("{url}/ui/jobs/{job}/events"))
        .header("x-api-key", key);
    if let Some(after) = after {
        request = request.header("last-event-id", after.to_string());
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let text = response.text().await.unwrap();
    text.split("\n\n")
        .filter(|block| block.lines().any(|l| l.starts_with("data:")))
        .map(|block| {
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_owned())
            };
            let data: Value = serde_json::from_str(&field("data:").unwrap()).unwrap();
            let id = field("id:").map(|id| id.parse().unwrap());
            (field("event:").unwrap(), id, data)
        })
        .collect()
}

fn names(events: &[(String, Option<u64>, Value)]) -> Vec<(&str, Option<u64>)> {
    events.iter().map(|(name, id, _)| (name.as_str(), *id)).collect()
}

#[tokio::test]
async fn a_job_streams_its_progress_then_the_rendered_outputs() {
    let url = start(jobs()).await;
    let spec: Value = reqwest::get(format!("{url}/ui/spec"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["jobs"], true);
    let (status, body) = submit(&url, "shout", "k").await;
    assert_eq!((status, &body), (200, &json!({"job": "job-1"})));
    let seen = events(&url, "job-1", "k", None).await;
    assert_eq!(
        names(&seen),
        vec![
            ("job", None),
            ("queued", Some(1)),
            ("started", Some(2)),
            ("progress", Some(3)),
            ("outputs", Some(4))
        ]
    );
    assert_eq!(seen[0].2["id"], "job-1");
    assert!(seen[0].2["elapsed_s"].as_f64().unwrap() >= 0.0);
    assert_eq!(seen[1].2, json!({"position": 1}));
    assert_eq!(seen[3].2["fraction"], 0.5);
    assert_eq!(seen[3].2["message"], "halfway");
    let outputs = &seen[4].2;
    assert_eq!(
        outputs["outputs"],
        json!([{"name": "out", "kind": "text", "value": "SHOUT"}])
    );
    assert_eq!(outputs.get("request"), None, "no request echo: {outputs}");
    assert!(outputs["elapsed_ms"].is_u64());

    // A reconnection after event 3 gets only what came after it; the answer is rendered again the same.
    let resumed = events(&url, "job-1", "k", Some(3)).await;
    assert_eq!(names(&resumed), vec![("job", None), ("outputs", Some(4))]);
    assert_eq!(resumed[1].2, seen[4].2);
}

#[tokio::test]
async fn failures_come_in_the_guis_error_shape() {
    let url = start(jobs()).await;
    submit(&url, "fails", "k").await;
    let seen = events(&url, "job-1", "k", None).await;
    assert_eq!(names(&seen).last(), Some(&("error", Some(4))));
    assert_eq!(
        seen[4].2,
        json!({"error": "validation_error happened", "error_type": "validation_error", "field": "steps", "status": 422})
    );
    // A field that is no input of the form is dropped, so the page shows the error on top.
    submit(&url, "fails elsewhere", "k").await;
    let seen = events(&url, "job-2", "k", None).await;
    assert_eq!(seen[4].2["field"], Value::Null);
    assert_eq!(seen[4].2["status"], 500);
    // An answer that process_response cannot read is a presentation error.
    submit(&url, "bad answer", "k").await;
    let seen = events(&url, "job-3", "k", None).await;
    assert_eq!(seen[4].0, "error");
    assert_eq!(seen[4].2["error_type"], "ui_error");
    // A refused submission is a plain JSON error, not a job.
    let (status, body) = submit(&url, "refused", "k").await;
    assert_eq!((status, body["field"].as_str()), (422, Some("text")));
}

#[tokio::test]
async fn cancel_reaches_the_service_and_the_stream_ends_canceled() {
    let caller = jobs();
    let url = start(Arc::clone(&caller)).await;
    submit(&url, "canceled", "k").await;
    let response = reqwest::Client::new()
        .post(format!("{url}/ui/jobs/job-1/cancel"))
        .header("x-api-key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(*caller.canceled.lock().unwrap(), vec!["job-1".to_owned()]);
    let seen = events(&url, "job-1", "k", None).await;
    assert_eq!(seen[4].2["error_type"], "canceled");
}

#[tokio::test]
async fn only_the_submitting_key_follows_or_cancels_a_job() {
    let caller = jobs();
    let url = start(Arc::clone(&caller)).await;
    submit(&url, "mine", "alice").await;
    let http = reqwest::Client::new();
    for key in [Some("bob"), None] {
        for (method, path) in [("GET", "events"), ("POST", "cancel")] {
            let mut request = http.request(method.parse().unwrap(), format!("{url}/ui/jobs/job-1/{path}"));
            if let Some(key) = key {
                request = request.header("x-api-key", key);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 403, "{method} {path} with {key:?}");
        }
    }
    assert!(caller.canceled.lock().unwrap().is_empty());
    let unknown = http
        .get(format!("{url}/ui/jobs/job-9/events"))
        .header("x-api-key", "alice")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(unknown.json::<Value>().await.unwrap()["error_type"], "job_not_found");
}

#[tokio::test]
async fn without_jobs_the_page_is_told_to_submit_plainly() {
    let url = start(Arc::new(Scripted::default())).await;
    let spec: Value = reqwest::get(format!("{url}/ui/spec"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["jobs"], false);
    let (status, body) = submit(&url, "plain", "k").await;
    assert_eq!((status, body["error_type"].as_str()), (501, Some("jobs_unavailable")));
    let answer: Value = reqwest::Client::new()
        .post(format!("{url}/ui/submit"))
        .multipart(form("plain"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["outputs"][0]["value"], "PLAIN");
}

#[tokio::test]
async fn a_standalone_gui_follows_a_job_of_a_service_over_rest() {
    let server = Server::new(Steps).config(ServerConfig {
        workers: 1,
        ..ServerConfig::default()
    });
    let service = easymlserve_testkit::serve(server).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let gui = WebUi::new(StepsUi).service_url(service);
    tokio::spawn(gui.serve_with_shutdown(listener, std::future::pending()));
    let http = reqwest::Client::new();
    while http.get(format!("{url}/ui/spec")).send().await.is_err() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let form = Form::new()
        .text("text", "far away")
        .text("steps", "4")
        .text("step_ms", "20");
    let answer: Value = http
        .post(format!("{url}/ui/jobs"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let job = answer["job"].as_str().unwrap();
    let seen = events(&url, job, "", None).await;
    let progress: Vec<&str> = seen
        .iter()
        .filter(|(name, _, _)| name == "progress")
        .map(|(_, _, data)| data["message"].as_str().unwrap())
        .collect();
    // The server may merge progress reports that come close together; the last one always comes.
    assert_eq!(progress.last(), Some(&"step 4 of 4"), "{progress:?}");
    let mut sorted = progress.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, progress, "in order, each once");
    let ids: Vec<u64> = seen.iter().filter_map(|(_, id, _)| *id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let (name, _, data) = seen.last().unwrap();
    assert_eq!(name, "outputs");
    assert_eq!(data["outputs"][0]["value"], "FAR AWAY");
}
