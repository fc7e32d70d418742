//! The job client against scripted HTTP servers on 127.0.0.1:0 that answer exactly as docs/jobs.md says,
//! and cut event streams off where a test wants: submitting, resuming with `Last-Event-ID`, failures
//! as errors, streamed requests, and `events_after` for the GUIs.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use easymlserve_client::{Client, ClientError};
use easymlserve_core::{JobEvent, JobEventKind, ServiceCaller};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the scripted server read it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: String,
}

/// What the scripted server sends back: a head, then body pieces written with a pause between them,
/// then the connection closes (the end of the body, as `Connection: close` allows).
struct Reply {
    status: &'static str,
    headers: Vec<(&'static str, String)>,
    pieces: Vec<String>,
    pause: Duration,
    /// Keep the connection open this long after the last piece.
    linger: Duration,
}

impl Reply {
    fn json(status: &'static str, body: serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("Content-Type", "application/json".to_owned())],
            pieces: vec![body.to_string()],
            pause: Duration::ZERO,
            linger: Duration::ZERO,
        }
    }

    fn sse(pieces: &[&str]) -> Self {
        Self {
            status: "200 OK",
            headers: vec![("Content-Type", "text/event-stream".to_owned())],
            pieces: pieces.iter().map(|p| (*p).to_owned()).collect(),
            pause: Duration::from_millis(20),
            linger: Duration::ZERO,
        }
    }
}

type Script = dyn Fn(&Seen, usize) -> Reply + Send + Sync;

/// Serves `script` (given each request and how many requests came before it); returns the base URL and
/// the requests seen.
async fn scripted(script: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let script: Arc<Script> = Arc::new(script);
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            let (script, log) = (Arc::clone(&script), Arc::clone(&log));
            tokio::spawn(async move { answer(socket, &*script, &log).await });
        }
    });
    (url, seen)
}

async fn answer(mut socket: TcpStream, script: &Script, log: &Mutex<Vec<Seen>>) {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        let n = socket.read(&mut buf).await.unwrap();
        if n == 0 {
            return;
        }
        bytes.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap().split(' ');
    let (method, path) = (first.next().unwrap().to_owned(), first.next().unwrap().to_owned());
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers.get("content-length").map_or(0, |v| v.parse().unwrap());
    let mut body = bytes[head_end + 4..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut buf).await.unwrap();
        body.extend_from_slice(&buf[..n]);
    }
    let seen = Seen {
        method,
        path,
        headers,
        body: String::from_utf8(body).unwrap(),
    };
    let count = {
        let mut log = log.lock().unwrap();
        log.push(seen.clone());
        log.len() - 1
    };
    let reply = script(&seen, count);
    let mut out = format!("HTTP/1.1 {}\r\nConnection: close\r\n", reply.status);
    for (name, value) in &reply.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    if socket.write_all(out.as_bytes()).await.is_err() {
        return;
    }
    for piece in &reply.pieces {
        if socket.write_all(piece.as_bytes()).await.is_err() {
            return;
        }
        tokio::time::sleep(reply.pause).await;
    }
    tokio::time::sleep(reply.linger).await;
    let _ = socket.shutdown().await;
}

fn state(id: &str, status: &str) -> serde_json::Value {
    json!({"id": id, "status": status, "queue_position": 0, "progress": null, "message": "", "eta_s": null,
           "created_at": "2026-12-02T05:00:00.000Z", "started_at": null, "finished_at": null})
}

fn accepted(id: &str) -> Reply {
    let mut reply = Reply::json("202 Accepted", state(id, "queued"));
    reply.headers.push(("Location", format!("/jobs/{id}")));
    reply.headers.push(("Preference-Applied", "respond-async".to_owned()));
    reply
}

const EVENTS_1_TO_3: &str = "id: 1\nevent: queued\ndata: {\"position\": 0}\n\n: keep-alive\n\nid: 2\r\nevent: started\r\ndata: {}\r\n\r\nid: 3\nevent: progress\ndata: {\"fraction\": 0.5, \"message\": \"tile 1 of 2\",\ndata:  \"elapsed_s\": 1.0, \"eta_s\": 1.0}\n\n";
const EVENTS_4_TO_5: &str = "id: 4\nevent: progress\ndata: {\"fraction\": 1.0, \"message\": \"tile 2 of 2\", \"elapsed_s\": 2.0, \"eta_s\": 0.0}\n\nid: 5\nevent: result\ndata: {\"labels\": [1, 2]}\n\n";

fn names(events: &[JobEvent]) -> Vec<(u64, &'static str)> {
    events.iter().map(|e| (e.id, e.kind.name())).collect()
}

#[tokio::test]
async fn a_job_is_submitted_and_its_events_resume_after_the_connection_drops() {
    let (url, seen) = scripted(|req, _| match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/process") => accepted("job-1"),
        ("GET", "/jobs/job-1/events") => match req.headers.get("last-event-id").map(String::as_str) {
            // Three events, then half of the fourth, then the connection is gone.
            None => Reply::sse(&[EVENTS_1_TO_3, "id: 4\nevent: progress\ndata: {\"fra"]),
            Some("3") => Reply::sse(&[EVENTS_4_TO_5]),
            Some(other) => panic!("resumed after {other}"),
        },
        other => panic!("unexpected {other:?}"),
    })
    .await;
    let client = Client::new(&url).unwrap();
    let job = client.submit(&json!({"image": "x"})).await.unwrap();
    assert_eq!(job.id(), "job-1");
    let mut events = Vec::new();
    let mut stream = job.events();
    while let Some(event) = stream.next().await {
        events.push(event.unwrap());
    }
    assert_eq!(
        names(&events),
        [
            (1, "queued"),
            (2, "started"),
            (3, "progress"),
            (4, "progress"),
            (5, "result")
        ]
    );
    let JobEventKind::Progress(report) = &events[2].kind else {
        panic!()
    };
    assert_eq!((report.fraction, report.message.as_str()), (Some(0.5), "tile 1 of 2"));
    assert_eq!(events[4].kind, JobEventKind::Result(json!({"labels": [1, 2]})));

    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].headers.get("prefer").map(String::as_str), Some("respond-async"));
    assert_eq!(seen[0].body, r#"{"image":"x"}"#);
    assert_eq!(
        seen[1].headers.get("accept").map(String::as_str),
        Some("text/event-stream")
    );
    assert_eq!(seen[2].headers.get("last-event-id").map(String::as_str), Some("3"));
    assert_eq!(seen.len(), 3, "no reconnection after the result");

    // `wait` follows the same stream to its result.
    assert_eq!(job.wait().await.unwrap(), json!({"labels": [1, 2]}));
}

#[tokio::test]
async fn a_failed_job_is_an_api_error_with_the_status_it_ended_with() {
    let (url, _) = scripted(|req, _| match req.path.as_str() {
        "/jobs/mine.1" => Reply::json("200 OK", state("mine.1", "queued")),
        "/jobs/mine.1/events" => Reply::sse(&[
            "id: 1\nevent: error\ndata: {\"error\": \"canceled by the caller\", \"error_type\": \"canceled\", \"status\": 409}\n\n",
        ]),
        other => panic!("unexpected {other}"),
    })
    .await;
    let client = Client::new(&url).unwrap();
    let job = client.submit_with_id("mine.1", &json!({})).await.unwrap();
    let err = job.wait().await.unwrap_err();
    assert_eq!((err.status(), err.error_type()), (Some(409), Some("canceled")), "{err}");
    assert!(err.is_canceled());
    assert!(matches!(
        client.submit_with_id("no/slash", &json!({})).await,
        Err(ClientError::InvalidJobId(_))
    ));
}

#[tokio::test]
async fn status_cancel_and_delete_use_the_job_routes() {
    let (url, seen) = scripted(|req, _| match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/jobs/j") => Reply::json("200 OK", state("j", "running")),
        ("POST", "/jobs/j/cancel") => Reply::json("202 Accepted", state("j", "running")),
        ("DELETE", "/jobs/j") => Reply {
            pieces: Vec::new(),
            ..Reply::json("204 No Content", json!(null))
        },
        ("GET", "/jobs/gone") => Reply::json(
            "404 Not Found",
            json!({"error": "no job `gone`", "error_type": "not_found"}),
        ),
        other => panic!("unexpected {other:?}"),
    })
    .await;
    let client = Client::new(&url).unwrap().api_key("k1").unwrap();
    let job = client.job("j").unwrap();
    assert_eq!(job.status().await.unwrap().status, easymlserve_core::JobStatus::Running);
    assert_eq!(job.cancel().await.unwrap().id, "j");
    job.delete().await.unwrap();
    let err = client.job("gone").unwrap().status().await.unwrap_err();
    assert_eq!((err.status(), err.error_type()), (Some(404), Some("not_found")));
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter()
            .all(|s| s.headers.get("authorization").map(String::as_str) == Some("Bearer k1"))
    );
}

#[tokio::test]
async fn a_submission_the_server_refuses_or_answers_at_once_is_an_error() {
    let (url, _) = scripted(|req, _| {
        if req.body.contains("bad") {
            Reply::json(
                "422 Unprocessable Entity",
                json!({"error": "`steps`: must be positive", "error_type": "invalid_input", "field": "steps"}),
            )
        } else {
            // A server without jobs ignores `Prefer` and answers the request.
            Reply::json("200 OK", json!({"done": 1}))
        }
    })
    .await;
    let client = Client::new(&url).unwrap();
    let err = client.submit(&json!({"bad": 1})).await.unwrap_err();
    assert_eq!((err.status(), err.error_type()), (Some(422), Some("invalid_input")));
    let err = client.submit(&json!({"good": 1})).await.unwrap_err();
    assert!(err.to_string().contains("does not run jobs"), "{err}");
}

#[tokio::test]
async fn a_streamed_request_gives_the_events_and_cannot_resume() {
    let (url, seen) = scripted(|req, _| {
        assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/process"));
        match req.body.as_str() {
            r#"{"n":1}"# => Reply::sse(&[
                "event: started\ndata: {}\n\n",
                EVENTS_4_TO_5.trim_start_matches("id: 4\n"),
            ]),
            r#"{"n":2}"# => Reply::sse(&["event: started\ndata: {}\n\nevent: progress\ndata: {\"fraction\""]),
            _ => Reply::json("200 OK", json!({"plain": true})),
        }
    })
    .await;
    let client = Client::new(&url).unwrap();
    let mut stream = client.process_stream(&json!({"n": 1}));
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.unwrap());
    }
    // Events without ids are numbered as they arrive (the result keeps the id it was sent with).
    assert_eq!(names(&events), [(1, "started"), (2, "progress"), (5, "result")]);

    let mut stream = client.process_stream(&json!({"n": 2}));
    assert_eq!(stream.next().await.unwrap().unwrap().kind, JobEventKind::Started {});
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(err, ClientError::StreamLost { .. }), "{err}");
    assert!(stream.next().await.is_none());

    // A server without streams answers with the JSON: that is the result.
    let mut stream = client.process_stream(&json!({"n": 3}));
    assert_eq!(
        stream.next().await.unwrap().unwrap().kind,
        JobEventKind::Result(json!({"plain": true}))
    );
    assert!(stream.next().await.is_none());
    assert_eq!(seen.lock().unwrap().len(), 3, "a stream is never sent twice");
}

#[tokio::test]
async fn events_after_answers_with_what_has_arrived_without_waiting_for_the_end() {
    let (url, seen) = scripted(|req, _| match req.headers.get("last-event-id").map(String::as_str) {
        Some("2") => Reply {
            // Events 3 and 4 at once, then nothing for a long while (the job runs on).
            linger: Duration::from_secs(30),
            ..Reply::sse(&[
                &EVENTS_1_TO_3[EVENTS_1_TO_3.find("id: 3").unwrap()..],
                "id: 4\nevent: progress\ndata: {\"fraction\": null, \"message\": \"\", \"elapsed_s\": 3.0}\n\n",
            ])
        },
        other => panic!("unexpected Last-Event-ID {other:?}"),
    })
    .await;
    let client = Client::new(&url).unwrap();
    let jobs = client.jobs().expect("the REST client offers jobs");
    let started = Instant::now();
    let events = jobs.events_after("j", 2).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(names(&events)[0], (3, "progress"));
    assert!(events.len() <= 2 && events.iter().all(|e| e.id > 2), "{events:?}");
    assert_eq!(seen.lock().unwrap()[0].path, "/jobs/j/events");
}
