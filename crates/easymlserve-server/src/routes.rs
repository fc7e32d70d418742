//! The router of the REST contract (DESIGN.md section 4) and its handlers.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state, map_request};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use std::sync::Arc;

use easymlserve_core::{Service, ServiceCaller};
use serde_json::json;
use std::sync::atomic::Ordering;
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::require_key;
use crate::engine::Readiness;
use crate::error::ApiError;
use crate::extract::ValidJson;
use crate::metrics::Snapshot;
use crate::state::AppState;

/// The complete router of a service: `/process`, `/api/spec`, `/openapi.json`, `/docs`, health and
/// metrics, with JSON errors for unknown routes and methods. `/process` and `/metrics` need an API key
/// when keys are configured; the health probes and the documentation never do.
pub fn router<S: Service>(state: AppState<S>) -> Router {
    router_with(state, None)
}

/// The router with extra routes mounted (a co-hosted GUI): its protected routes get the API-key check,
/// and `/` leads to its home page instead of the docs.
pub fn router_with<S: Service>(state: AppState<S>, mount: Option<Mount>) -> Router {
    let protected = guard(
        Router::new()
            .route("/process", post(process::<S>))
            .route("/metrics", get(metrics::<S>)),
        &state,
    );
    let docs: Router<AppState<S>> = SwaggerUi::new("/docs")
        .external_url_unchecked("/openapi.json", state.openapi.clone())
        .into();
    let mut app = Router::new()
        .merge(protected)
        .route("/api/spec", get(spec::<S>))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready::<S>))
        .merge(docs)
        .with_state(state.clone());
    let read_timeout = state.read_timeout;
    let mut home = "/docs/".to_owned();
    if let Some(mount) = mount {
        app = app.merge(mount.public);
        if let Some(routes) = mount.protected {
            app = app.merge(guard(routes, &state));
        }
        home = mount.home.unwrap_or(home);
    }
    app = app
        .route("/", get(move || async move { Redirect::temporary(&home) }))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(map_request(move |request: Request| async move {
            crate::deadline::with_deadline(request, read_timeout)
        }));
    // With no origins listed the CORS layer would only look for a header and pass on: leave it out.
    if state.cors.is_enabled() {
        app = app.layer(from_fn_with_state(state.cors.clone(), crate::cors::cors));
    }
    app.layer(from_fn_with_state(state, observe::<S>))
}

/// `routes` behind the API-key check when keys are configured. Without keys the check would only pass
/// every request on, so it is left out of the request path.
fn guard<S: Service, T: Clone + Send + Sync + 'static>(routes: Router<T>, state: &AppState<S>) -> Router<T> {
    if state.keys.is_enabled() {
        routes.route_layer(from_fn_with_state(state.keys.clone(), require_key))
    } else {
        routes
    }
}

/// Routes added to a server by something built on it, such as the web GUI.
#[derive(Debug, Default)]
pub struct Mount {
    /// Routes open to everyone (pages, assets).
    pub public: Router,
    /// Routes that need the API key when keys are configured (anything that runs the model).
    pub protected: Option<Router>,
    /// Where `/` leads, instead of `/docs/`.
    pub home: Option<String>,
}

/// What a mount is built from.
#[derive(Clone)]
pub struct MountContext {
    /// Calls the served model in process, with the same validation as `POST /process`.
    pub caller: Arc<dyn ServiceCaller>,
    /// Whether API keys are configured (a GUI then asks the user for one).
    pub auth_required: bool,
    /// The request body limit in bytes, for uploads.
    pub body_limit: usize,
}

async fn process<S: Service>(
    State(state): State<AppState<S>>,
    ValidJson(request): ValidJson<S::Request>,
) -> Result<Response, ApiError> {
    let body = state.engine.call(request).await?;
    Ok((
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response())
}

async fn spec<S: Service>(State(state): State<AppState<S>>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        state.spec.clone(),
    )
        .into_response()
}

async fn live() -> Response {
    axum::Json(json!({"status": "live"})).into_response()
}

async fn ready<S: Service>(State(state): State<AppState<S>>) -> Response {
    let (status, error) = match state.engine.readiness() {
        Readiness::Ready => return axum::Json(json!({"status": "ready"})).into_response(),
        Readiness::Loading => ("loading", "the model is still loading".to_owned()),
        Readiness::Failed(reason) => ("failed", format!("the model failed to load: {reason}")),
        Readiness::Stopping => ("stopping", "the server is shutting down".to_owned()),
    };
    let body = json!({"status": status, "error": error, "error_type": "not_ready"});
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, HeaderValue::from_static("5"))],
        axum::Json(body),
    )
        .into_response()
}

async fn metrics<S: Service>(State(state): State<AppState<S>>) -> Response {
    let snapshot = Snapshot {
        ready: state.engine.readiness() == Readiness::Ready,
        workers: state.engine.workers(),
        queue_capacity: state.engine.queue_capacity(),
    };
    let text = state.metrics.render(snapshot);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

async fn not_found(request: Request) -> ApiError {
    ApiError::NotFound {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
    }
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::MethodNotAllowed {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
    }
}

/// Counts, times and logs every request: one log line per request with method, path, status, duration.
async fn observe<S: Service>(State(state): State<AppState<S>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // The path is copied only when the access log is on; the matched route is shared, not copied.
    let path =
        tracing::enabled!(target: "easymlserve::access", tracing::Level::INFO).then(|| request.uri().path().to_owned());
    let route = request.extensions().get::<MatchedPath>().cloned();
    state.metrics.in_flight().fetch_add(1, Ordering::Relaxed);
    let response = next.run(request).await;
    state.metrics.in_flight().fetch_sub(1, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state.metrics.record_request(method.as_str(), route, status, elapsed);
    if let Some(path) = path {
        tracing::info!(target: "easymlserve::access", %method, %path, status, duration_ms = elapsed.as_secs_f64() * 1000.0, "request");
    }
    response
}
