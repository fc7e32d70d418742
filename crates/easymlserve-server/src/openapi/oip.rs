//! The Open Inference Protocol v2 routes in the OpenAPI document (docs/inference-protocol.md), so every
//! route the server answers is described: health, server and model metadata, and infer, each in its
//! plain and its `/versions/{version}` form.

use serde_json::{Value, json};

use super::Errors;

fn object(description: &str, properties: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"type": "object", "properties": properties}}}})
}

fn tensor_list() -> Value {
    json!({"type": "array", "items": {"type": "object", "required": ["name", "datatype", "shape"], "properties": {
        "name": {"type": "string"},
        "datatype": {"type": "string", "enum": ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64", "BYTES"]},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "data": {"description": "The elements, flat in row-major order or nested by the shape; absent when sent as binary data."},
        "parameters": {"type": "object"},
    }}})
}

/// The `/v2...` paths.
pub(super) fn paths(errors: &Errors, security: &Value) -> Value {
    let model = json!({"name": "model", "in": "path", "required": true, "schema": {"type": "string"},
        "description": "The served model's name (`GET /v2` lists it)."});
    let version = json!({"name": "version", "in": "path", "required": true, "schema": {"type": "string"}});
    let not_found = errors.plain("No model by that name or version (`model_not_found`).");
    let metadata = |op: &str, params: Value| {
        json!({"get": {
            "summary": "The model's name, versions, platform and tensors", "operationId": op, "tags": ["inference protocol v2"],
            "parameters": params,
            "responses": {
                "200": object("Model metadata.", json!({"name": {"type": "string"}, "versions": {"type": "array"},
                    "platform": {"type": "string"}, "inputs": {"type": "array"}, "outputs": {"type": "array"}})),
                "404": not_found,
                "503": errors.retry("The model is not loaded yet (`not_ready`)."),
            },
        }})
    };
    let ready = |op: &str, params: Value| {
        json!({"get": {
            "summary": "Whether the model is ready", "operationId": op, "tags": ["inference protocol v2"],
            "parameters": params,
            "responses": {
                "200": object("Ready.", json!({"name": {"type": "string"}, "ready": {"type": "boolean"}})),
                "404": not_found,
                "503": errors.retry("The model is not loaded yet (`not_ready`)."),
            },
        }})
    };
    let infer = |op: &str, params: Value| {
        json!({"post": {
            "summary": "Run the model on tensors (JSON, or JSON followed by binary data with `Inference-Header-Content-Length`)",
            "operationId": op, "tags": ["inference protocol v2"], "security": security, "parameters": params,
            "requestBody": {"required": true, "content": {
                "application/json": {"schema": {"type": "object", "required": ["inputs"], "properties": {
                    "id": {"type": "string"}, "inputs": tensor_list(), "outputs": {"type": "array"}, "parameters": {"type": "object"}}}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            }},
            "responses": errors.with_unauthorized(json!({
                "200": object("The output tensors.", json!({"model_name": {"type": "string"}, "id": {"type": "string"}, "outputs": tensor_list()})),
                "400": errors.plain("The tensors do not fit the model: a missing input, a wrong datatype or shape, bad binary sizes (`invalid_inference_request`, `validation_error`, `invalid_input`)."),
                "404": not_found,
                "413": errors.plain("The body is larger than the configured limit (`payload_too_large`)."),
                "500": errors.plain("The model failed (`model_error`, `model_panic`, `worker_crashed`); the log has the details."),
                "503": errors.retry("The queue is full (`queue_full`) or the model is not ready (`not_ready`)."),
                "504": errors.plain("The model did not answer within the timeout (`timeout`)."),
            })),
        }})
    };
    json!({
        "/v2": {"get": {"summary": "Server metadata: name, version, extensions", "operationId": "oipServer",
            "tags": ["inference protocol v2"],
            "responses": {"200": object("Server metadata.", json!({"name": {"type": "string"}, "version": {"type": "string"}, "extensions": {"type": "array"}}))}}},
        "/v2/health/live": {"get": {"summary": "Liveness", "operationId": "oipLive", "tags": ["inference protocol v2"],
            "responses": {"200": object("Live.", json!({"live": {"type": "boolean"}}))}}},
        "/v2/health/ready": {"get": {"summary": "Readiness", "operationId": "oipReady", "tags": ["inference protocol v2"],
            "responses": {"200": object("Ready.", json!({"ready": {"type": "boolean"}})),
                "503": errors.retry("Not ready yet, failed to load, or shutting down.")}}},
        "/v2/models/{model}": metadata("oipModel", json!([model])),
        "/v2/models/{model}/versions/{version}": metadata("oipModelVersion", json!([model, version])),
        "/v2/models/{model}/ready": ready("oipModelReady", json!([model])),
        "/v2/models/{model}/versions/{version}/ready": ready("oipModelVersionReady", json!([model, version])),
        "/v2/models/{model}/infer": infer("oipInfer", json!([model])),
        "/v2/models/{model}/versions/{version}/infer": infer("oipInferVersion", json!([model, version])),
    })
}
