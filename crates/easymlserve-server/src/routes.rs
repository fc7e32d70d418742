//! The router of the REST contract (DESIGN.md section 4): which route goes to which handler, which
//! routes need the API key, and what extra route sets (a GUI, later the inference protocol and jobs)
//! are mounted beside them.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{from_fn_with_state, map_request};
use axum::response::Redirect;
use axum::routing::{get, post};
use easymlserve_core::{ServiceCaller, ServiceSpec};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::require_key;
use crate::handlers;
use crate::state::AppState;

/// The loaded model's spec, for route sets built before it is loaded; `None` until then.
pub type SpecSource = Arc<dyn Fn() -> Option<Arc<ServiceSpec>> + Send + Sync>;

/// The complete router of a service: `/process`, `/api/spec`, `/openapi.json`, `/docs`, health and
/// metrics, with JSON errors for unknown routes and methods. `/process` and `/metrics` need an API key
/// when keys are configured; the health probes and the documentation never do.
pub fn router(state: AppState) -> Router {
    router_with(state, Vec::new())
}

/// The router with extra route sets mounted (a co-hosted GUI, ...): their protected routes get the
/// API-key check, and `/` leads to the first one's home page instead of the docs.
pub fn router_with(state: AppState, mounts: Vec<Mount>) -> Router {
    let protected = guard(
        Router::new()
            .route("/process", post(handlers::process))
            .route("/metrics", get(handlers::metrics))
            .merge(crate::oip::protected_routes())
            .merge(crate::jobs::routes::routes()),
        &state,
    );
    // The document exists only once the model is loaded, so the page fetches it from our own route.
    let docs: Router<AppState> = SwaggerUi::new("/docs").config(Config::new(["/openapi.json"])).into();
    let mut app = Router::new()
        .merge(protected)
        .route("/api/spec", get(handlers::spec))
        .route("/openapi.json", get(handlers::openapi))
        .route("/health/live", get(handlers::live))
        .route("/health/ready", get(handlers::ready))
        .merge(crate::oip::public_routes())
        .merge(docs)
        .with_state(state.clone());
    let read_timeout = state.read_timeout;
    let mut home = None;
    for mount in mounts {
        app = app.merge(mount.public);
        if let Some(routes) = mount.protected {
            app = app.merge(guard(routes, &state));
        }
        home = home.or(mount.home);
    }
    let home = home.unwrap_or_else(|| "/docs/".to_owned());
    app = app
        .route("/", get(move || async move { Redirect::temporary(&home) }))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(map_request(move |request: Request| async move {
            crate::deadline::with_deadline(request, read_timeout)
        }));
    // With no origins listed the CORS layer would only look for a header and pass on: leave it out.
    if let Some(cors) = state.cors.layer() {
        app = app.layer(cors);
    }
    app.layer(from_fn_with_state(Arc::clone(&state.metrics), crate::observe::observe))
}

/// `routes` behind the API-key check when keys are configured. Without keys the check would only pass
/// every request on, so it is left out of the request path.
fn guard<T: Clone + Send + Sync + 'static>(routes: Router<T>, state: &AppState) -> Router<T> {
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
    /// The loaded model's spec, once it is loaded.
    pub spec: SpecSource,
    /// Whether a GUI should compute its examples' outputs once the model is ready (`--cache-examples`).
    pub cache_examples: bool,
}
