//! A job keeps the request body it was submitted with, for whoever may see the job: the in-process
//! `JobCaller::request` (what a co-hosted GUI uses to show a job another replica took) answers it, a
//! missing job is a 404 and a job submitted with an API key is not the GUI's to read.

use easymlserve_core::JobCaller;
use easymlserve_server::{ApiKeys, Server, ServerConfig};
use serde_json::json;

use crate::util::{TestService, config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jobs_request_body_is_kept_and_read_back_with_the_owner_rule() {
    let config = ServerConfig {
        api_keys: ApiKeys::parse_list("alice-key"),
        ..config()
    };
    let (state, router) = Server::new(TestService::default()).config(config).into_parts();
    state.load().await.expect("the model loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let caller: &dyn JobCaller = &state;

    let request = json!({"text": "kept with the job", "sleep_ms": 0});
    let id = caller.submit(request.clone()).await.unwrap();
    assert_eq!(caller.request(&id).await.unwrap(), Some(request));

    let missing = caller.request("no-such-job").await.unwrap_err();
    assert_eq!(missing.status, Some(404), "{missing:?}");
    assert_eq!(missing.body.error_type, "job_not_found", "{missing:?}");

    // A job submitted over HTTP with a key belongs to that key, not to the keyless in-process caller.
    let submitted = reqwest::Client::new()
        .put(format!("{url}/jobs/alices-job"))
        .bearer_auth("alice-key")
        .json(&json!({"text": "alice's", "sleep_ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 202);
    let forbidden = caller.request("alices-job").await.unwrap_err();
    assert_eq!(forbidden.status, Some(403), "{forbidden:?}");

    // Deleted with the job.
    state.jobs().delete(&id, None).await.unwrap();
    let gone = caller.request(&id).await.unwrap_err();
    assert_eq!(gone.status, Some(404), "{gone:?}");
}
