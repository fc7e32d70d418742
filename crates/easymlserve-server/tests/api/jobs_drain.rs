//! Jobs on a stopping server: a real SIGTERM to a real child process fails a memory-store job that
//! outlives the shutdown timeout with `shutting_down`, which a client following its events reads as the
//! last event before the stream ends; the process still exits 0.

use std::time::Duration;

use serde_json::{Value, json};

use crate::lifecycle::{CHILD_KEY, SigtermChild};

/// The named events (`event:` and `data:` lines) of an SSE body read to its end.
fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event:"))?.trim().to_owned();
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            Some((name, serde_json::from_str(&data).expect("event data is JSON")))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_fails_a_memory_job_past_the_timeout_with_shutting_down_in_its_events() {
    let mut child = SigtermChild::start(0.0, 1.0).await;
    let (http, url) = (child.http.clone(), child.url.clone());
    let submitted = http
        .post(format!("{url}/process"))
        .bearer_auth(CHILD_KEY)
        .header("prefer", "respond-async")
        .json(&json!({"text": "long job", "sleep_ms": 60_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 202);
    let location = submitted.headers()["location"].to_str().unwrap().to_owned();
    child.wait_for("PROCESSING long job");
    let events = http
        .get(format!("{url}{location}/events"))
        .bearer_auth(CHILD_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    child.sigterm();
    // The stream ends by itself once the job has ended; the text is everything it sent.
    let body = tokio::time::timeout(Duration::from_secs(20), events.text())
        .await
        .expect("the event stream ends within 20 s")
        .expect("the stream is read to its end, not cut");
    let events = sse_events(&body);
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.first(), Some(&"queued"), "{body}");
    assert!(names.contains(&"started"), "{body}");
    let (last, data) = events.last().unwrap();
    assert_eq!(last, "error", "{body}");
    assert_eq!(data["error_type"], "shutting_down", "{data}");
    assert_eq!(data["status"], 503, "{data}");
    let log = child.exits_cleanly().await;
    assert!(log.contains("0 handed back, 1 failed"), "{log}");
}
