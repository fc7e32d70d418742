//! The OpenAPI 3.1 document of a service, built from its Rust types: the request and response JSON
//! Schemas that schemars generates, the shared error body, and every route of the REST contract.

use easymlserve_core::schemars::SchemaGenerator;
use easymlserve_core::schemars::generate::SchemaSettings;
use easymlserve_core::{ErrorBody, Service, example_from_schema};
use serde_json::{Value, json};

/// Builds the document for `service`; `auth` adds the API-key security schemes.
pub fn openapi_document<S: Service>(service: &S, auth: bool) -> Value {
    let info = service.info();
    let mut generator: SchemaGenerator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas/".into())
        .into_generator();
    let request = generator.subschema_for::<S::Request>().to_value();
    let response = generator.subschema_for::<S::Response>().to_value();
    let error = generator.subschema_for::<ErrorBody>().to_value();
    let schemas = Value::Object(generator.take_definitions(true));
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {"title": info.name, "version": info.version, "description": info.description},
        "components": {"schemas": schemas},
    });
    let example = service
        .example_request()
        .unwrap_or_else(|| example_from_schema(&request, &document));
    let error_content = json!({"application/json": {"schema": error}});
    let err = |description: &str| json!({"description": description, "content": error_content});
    let security = if auth {
        json!([{"bearer": []}, {"apiKey": []}])
    } else {
        json!([])
    };
    let mut process_responses = json!({
        "200": {"description": "The model's answer.", "content": {"application/json": {"schema": response}}},
        "400": err("The body is not valid JSON."),
        "413": err("The body is larger than the configured limit."),
        "415": err("The body is not sent as `application/json`."),
        "422": err("A field is missing, has the wrong type or is out of range; `field` names it."),
        "500": err("The model failed or crashed on this request; the server keeps serving."),
        "503": err("The queue is full or the model is not ready; retry after `Retry-After` seconds."),
        "504": err("The model did not answer within the configured timeout."),
    });
    let mut metrics_responses = json!({
        "200": {"description": "Prometheus text exposition.", "content": {"text/plain": {"schema": {"type": "string"}}}},
    });
    if auth {
        for responses in [&mut process_responses, &mut metrics_responses] {
            responses["401"] = err("The API key is missing or wrong.");
        }
    }
    document["paths"] = json!({
        "/process": {"post": {
            "summary": "Run the model on one request",
            "operationId": "process",
            "security": security,
            "requestBody": {"required": true, "content": {"application/json": {"schema": request, "example": example}}},
            "responses": process_responses,
        }},
        "/api/spec": {"get": {
            "summary": "Name, version, request and response JSON Schemas, and the UI components",
            "operationId": "spec",
            "responses": {"200": {"description": "The service spec.", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
        "/health/live": {"get": {
            "summary": "Liveness: the process answers",
            "operationId": "live",
            "responses": {"200": {"description": "The process is alive.", "content": {"application/json": {"schema": {"type": "object"}}}}},
        }},
        "/health/ready": {"get": {
            "summary": "Readiness: the model is loaded and requests are accepted",
            "operationId": "ready",
            "responses": {
                "200": {"description": "Ready.", "content": {"application/json": {"schema": {"type": "object"}}}},
                "503": err("Loading, failed to load (the reason is in `error`), or shutting down."),
            },
        }},
        "/metrics": {"get": {
            "summary": "Prometheus metrics",
            "operationId": "metrics",
            "security": security,
            "responses": metrics_responses,
        }},
    });
    if auth {
        document["components"]["securitySchemes"] = json!({
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        });
    }
    document
}
