//! Why this exists: the benchmark's ceiling. The echo service's `POST /process` as one bare axum handler,
//! with no schema validation, queue, worker pool, metrics or logging, so `bench/compare.sh` can show what
//! the easymlserve machinery costs on top of axum. Run: `BARE_ECHO_PORT=18090 target/release/bare-echo`.

use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

/// The echo example's request: `{"text": "...", "repeat": n}`, `repeat` 1 to 10, 1 when left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EchoRequest {
    text: String,
    #[serde(default = "one")]
    repeat: u32,
}

fn one() -> u32 {
    1
}

/// The echo example's response: `{"text": repeated}`.
#[derive(Debug, Serialize)]
struct EchoResponse {
    text: String,
}

/// Repeats the text; a `repeat` outside 1 to 10 is refused, as the echo example's schema does.
async fn process(Json(request): Json<EchoRequest>) -> Response {
    if !(1..=10).contains(&request.repeat) {
        return (StatusCode::UNPROCESSABLE_ENTITY, "`repeat` must be 1 to 10").into_response();
    }
    Json(EchoResponse {
        text: request.text.repeat(request.repeat as usize),
    })
    .into_response()
}

/// Always ready: there is no model to load. The benchmark times cold start up to the first 200 here.
async fn ready() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ready"}))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = match std::env::var("BARE_ECHO_PORT") {
        Ok(text) => text
            .parse()
            .map_err(|e| std::io::Error::other(format!("BARE_ECHO_PORT `{text}`: {e}")))?,
        Err(_) => 8000,
    };
    let app = Router::new()
        .route("/process", post(process))
        .route("/health/ready", get(ready));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    axum::serve(listener, app).await
}
