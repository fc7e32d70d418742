//! The Open Inference Protocol v2 routes (the REST API of KServe and Triton) on every server: server
//! and model health and metadata, and `infer` with JSON tensors and the binary-data extension, all
//! driving the same engine as `POST /process`.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::OipError;
use super::mapping::{Encoding, Signature};
use super::wire::{self, InferResponse, ResponseOutput};
use crate::engine::Readiness;
use crate::error::ApiError;
use crate::state::AppState;

/// The header giving the JSON part's length in a binary-data body.
const HEADER_LENGTH: &str = "inference-header-content-length";

/// Routes anyone may call: health and metadata.
pub(crate) fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/v2", get(server_metadata))
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2/models/{model}", get(model_metadata))
        .route("/v2/models/{model}/versions/{version}", get(model_metadata))
        .route("/v2/models/{model}/ready", get(model_ready))
        .route("/v2/models/{model}/versions/{version}/ready", get(model_ready))
}

/// Routes that run the model, behind the API key when keys are configured.
pub(crate) fn protected_routes() -> Router<AppState> {
    Router::new()
        .route("/v2/models/{model}/infer", post(infer))
        .route("/v2/models/{model}/versions/{version}/infer", post(infer))
}

/// `{model}` and, on the version routes, `{version}`: one extractor serves both forms of each route.
#[derive(Debug, Deserialize)]
struct ModelPath {
    model: String,
    #[serde(default)]
    version: Option<String>,
}

/// The name a model has in the protocol: its service name in lowercase with spaces as dashes
/// (`Load forecasting` is `load-forecasting`; an ONNX file's name is its `--model-name`).
pub fn model_name(service_name: &str) -> String {
    service_name
        .trim()
        .chars()
        .map(|c| if c.is_whitespace() { '-' } else { c.to_ascii_lowercase() })
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

async fn server_metadata() -> Response {
    axum::Json(json!({
        "name": "easymlserve",
        "version": env!("CARGO_PKG_VERSION"),
        "extensions": ["binary_tensor_data"],
    }))
    .into_response()
}

async fn live() -> Response {
    axum::Json(json!({"live": true})).into_response()
}

async fn ready(State(state): State<AppState>) -> Response {
    match not_ready(&state) {
        None => axum::Json(json!({"ready": true})).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, HeaderValue::from_static("5"))],
            axum::Json(json!({"ready": false, "error": reason})),
        )
            .into_response(),
    }
}

fn not_ready(state: &AppState) -> Option<String> {
    match state.engine.readiness() {
        _ if state.is_draining() => Some("the server is shutting down: draining".to_owned()),
        Readiness::Ready if state.docs.get().is_some() => None,
        Readiness::Ready | Readiness::Loading => Some("the model is still loading".to_owned()),
        Readiness::Failed(reason) => Some(format!("the model failed to load: {reason}")),
        Readiness::Stopping => Some("the server is shutting down".to_owned()),
    }
}

/// The loaded model's documents, if `path` names it (and its version, when given).
fn served<'a>(state: &'a AppState, path: &ModelPath) -> Result<&'a crate::state::Docs, OipError> {
    let docs = match (state.docs.get(), not_ready(state)) {
        (Some(docs), None) => docs,
        (_, reason) => {
            let reason = reason.unwrap_or_else(|| "the model is still loading".to_owned());
            return Err(OipError::Api(ApiError::NotReady(reason)));
        }
    };
    let name = model_name(&docs.spec.info.name);
    if path.model != name && path.model != docs.spec.info.name {
        return Err(OipError::NotFound(format!(
            "model `{}` is not served here; this server serves `{name}`",
            path.model
        )));
    }
    if let Some(version) = &path.version
        && *version != docs.spec.info.version
    {
        return Err(OipError::NotFound(format!(
            "model `{name}` has no version `{version}`; its version is `{}`",
            docs.spec.info.version
        )));
    }
    Ok(docs)
}

async fn model_metadata(State(state): State<AppState>, Path(path): Path<ModelPath>) -> Result<Response, OipError> {
    let docs = served(&state, &path)?;
    let signature = &docs.signature;
    let tensors = |ports: &[super::mapping::Port]| -> Vec<Value> {
        ports
            .iter()
            .map(|p| json!({"name": p.spec.name, "datatype": p.spec.datatype, "shape": p.spec.shape}))
            .collect()
    };
    let versions: Vec<&str> = Some(docs.spec.info.version.as_str())
        .filter(|v| !v.is_empty())
        .into_iter()
        .collect();
    let mut body = json!({
        "name": model_name(&docs.spec.info.name),
        "versions": versions,
        "platform": signature.platform,
        "inputs": tensors(&signature.inputs),
        "outputs": tensors(&signature.outputs),
    });
    if !signature.native {
        let encoding = |p: &super::mapping::Port| {
            let how = match p.encoding {
                Encoding::Nested => "array",
                Encoding::Scalar => "value",
                Encoding::Json => "json_text",
            };
            (p.spec.name.clone(), Value::from(how))
        };
        body["parameters"] = json!({
            "tensor_mapping": "json_fields",
            "inputs": signature.inputs.iter().map(encoding).collect::<serde_json::Map<_, _>>(),
            "outputs": signature.outputs.iter().map(encoding).collect::<serde_json::Map<_, _>>(),
            "documentation": "/docs/inference-protocol.md",
        });
    }
    Ok(axum::Json(body).into_response())
}

async fn model_ready(State(state): State<AppState>, Path(path): Path<ModelPath>) -> Response {
    match served(&state, &path) {
        Ok(_) => axum::Json(json!({"name": path.model, "ready": true})).into_response(),
        Err(err) => err.into_response(),
    }
}

fn header_length(headers: &HeaderMap) -> Result<Option<usize>, OipError> {
    let Some(value) = headers.get(HEADER_LENGTH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map(Some)
        .ok_or_else(|| OipError::bad("`Inference-Header-Content-Length` must be a byte count"))
}

async fn infer(
    State(state): State<AppState>,
    Path(path): Path<ModelPath>,
    request: Request,
) -> Result<Response, OipError> {
    let docs = served(&state, &path)?;
    let signature: &Signature = &docs.signature;
    let id = crate::handlers::request_id(request.headers());
    let header_len = header_length(request.headers())?;
    let body = crate::extract::read_body(request, state.body_limit).await?;
    let inputs = wire::read_inputs(&body, header_len)?;
    let header = inputs.header;
    let json_body = signature.request_json(inputs.tensors)?;
    let valid = state.engine.validate(json_body).map_err(ApiError::from)?;
    let answer = state.engine.call(valid, id).await.map_err(ApiError::from)?;
    let answer: Value = serde_json::from_slice(&answer)
        .map_err(|e| OipError::Internal(format!("the model's answer is not JSON: {e}")))?;
    let mut outputs = signature.response_tensors(answer)?;
    let chosen: Vec<(super::mapping::Port, super::Tensor, bool)> = match &header.outputs {
        None => outputs
            .into_iter()
            .map(|(port, tensor)| (port, tensor, wire::wants_binary(&header, None)))
            .collect(),
        Some(wanted) => {
            let mut chosen = Vec::with_capacity(wanted.len());
            for request in wanted {
                let at = outputs.iter().position(|(port, _)| port.spec.name == request.name);
                let Some(at) = at else {
                    let known: Vec<String> = signature.outputs.iter().map(|p| format!("`{}`", p.spec.name)).collect();
                    return Err(OipError::bad(format!(
                        "output `{}` is not an output of this model; its outputs are {}",
                        request.name,
                        known.join(", ")
                    )));
                };
                let (port, tensor) = outputs.swap_remove(at);
                chosen.push((port, tensor, wire::wants_binary(&header, Some(request))));
            }
            chosen
        }
    };
    let response = InferResponse {
        model_name: model_name(&docs.spec.info.name),
        model_version: Some(docs.spec.info.version.clone()).filter(|v| !v.is_empty()),
        id: header.id.clone(),
        outputs: chosen
            .iter()
            .map(|(port, tensor, _)| ResponseOutput {
                name: port.spec.name.clone(),
                datatype: tensor.datatype().name(),
                shape: tensor.shape.clone(),
                parameters: None,
                data: None,
            })
            .collect(),
    };
    let tensors = chosen.into_iter().map(|(_, tensor, binary)| (tensor, binary)).collect();
    let (body, header_len) = wire::write_outputs(response, tensors)?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    match header_len {
        Some(len) => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            headers.insert(HEADER_LENGTH, HeaderValue::from(len));
        }
        None => {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
    }
    Ok(response)
}
