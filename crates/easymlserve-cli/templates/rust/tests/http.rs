//! The service over real HTTP: served on a free port of 127.0.0.1 and called with `easymlserve::Client`,
//! as a caller would. A bad request is refused with a 422 naming the field.

use std::time::Duration;

use easymlserve::prelude::*;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn predicts_over_http_and_names_the_bad_field() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut server = Server::new({{crate}}::Model::load());
    // No drain period when the test stops it: nobody else is calling.
    server.config_mut().shutdown_delay = Duration::ZERO;
    let server = tokio::spawn(server.serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    let client = Client::new(url)?;
    while client.ready().await.is_err() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let answer = client.process_json(&json!({"study_hours": 6.0, "sleep_hours": 8.0})).await?;
    assert_eq!(answer, json!({"score": 63.0}));
    // `sleep_hours` has a default.
    let answer = client.process_json(&json!({"study_hours": 0.0})).await?;
    assert_eq!(answer, json!({"score": 36.0}));

    let err = client
        .process_json(&json!({"study_hours": 20.0}))
        .await
        .expect_err("20 hours is over the bound");
    assert_eq!(err.status(), Some(422));
    assert!(err.to_string().contains("study_hours"), "{err}");

    let _ = stop.send(());
    server.await??;
    Ok(())
}
