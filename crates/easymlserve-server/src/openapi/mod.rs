//! The OpenAPI 3.1 document of a served model, built at run time from its loaded spec: the request and
//! response JSON Schemas (whoever produced them: schemars, pydantic, an ONNX file's tensors), the shared
//! error body, and every route of the REST contract with every status it can answer, the headers that
//! come with them included (checked by `reliability/schemathesis.sh`).

mod components;
mod jobs;
mod oip;

use easymlserve_core::{ErrorBody, ServiceSpec, example_from_schema, schema_for};
use serde_json::{Value, json};

use components::Components;

/// Builds the document for a loaded model's `spec`; `auth` adds the API-key security schemes.
pub fn openapi_document(spec: &ServiceSpec, auth: bool) -> Value {
    let info = &spec.info;
    let mut components = Components::default();
    let request = components.lift(&spec.request_schema, "Request");
    let response = components.lift(&spec.response_schema, "Response");
    let error = components.insert("ErrorBody", error_body_schema());
    let errors = Errors { schema: error, auth };
    let security = if auth {
        json!([{"bearer": []}, {"apiKey": []}])
    } else {
        json!([])
    };
    let (job_paths, job_state) = jobs::paths(&mut components, &request, &errors, &security);
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {"title": info.name, "version": info.version, "description": info.description},
        "components": {"schemas": Value::Object(components.into_map())},
    });
    let example = spec
        .example_request
        .clone()
        .unwrap_or_else(|| example_from_schema(&request, &document));
    document["paths"] = json!({
        "/process": {"post": {
            "summary": "Run the model on one request",
            "operationId": "process",
            "security": security,
            "requestBody": {"required": true, "content": {"application/json": {"schema": request, "example": example}}},
            "responses": process_responses(response, &errors),
        }},
        "/api/spec": {"get": {
            "summary": "Name, version, request and response JSON Schemas, and the UI components",
            "operationId": "spec",
            "responses": {"200": json_object("The service spec.")},
        }},
        "/health/live": {"get": {
            "summary": "Liveness: the process answers",
            "operationId": "live",
            "responses": {"200": json_object("The process is alive.")},
        }},
        "/health/ready": {"get": {
            "summary": "Readiness: the model is loaded and requests are accepted",
            "operationId": "ready",
            "responses": {
                "200": json_object("Ready."),
                "503": errors.retry(
                    "Loading, failed to load (the reason is in `error`), or shutting down; `status` says which.",
                ),
            },
        }},
        "/metrics": {"get": {
            "summary": "Prometheus metrics",
            "operationId": "metrics",
            "security": security,
            "responses": errors.with_unauthorized(json!({
                "200": {"description": "OpenMetrics text exposition (Prometheus reads it).", "content": {"application/openmetrics-text": {"schema": {"type": "string"}}}},
            })),
        }},
    });
    jobs::extend_process(&mut document["paths"]["/process"]["post"], &job_state);
    let oip_paths = oip::paths(&errors, &security);
    if let Some(paths) = document["paths"].as_object_mut() {
        for more in [job_paths, oip_paths] {
            if let Value::Object(more) = more {
                paths.extend(more);
            }
        }
    }
    if auth {
        document["components"]["securitySchemes"] = json!({
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key"},
        });
    }
    document
}

/// The error body's schema as a component: the root schema without its root-only keywords.
fn error_body_schema() -> Value {
    let mut schema = schema_for::<ErrorBody>();
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
    }
    schema
}

/// Every answer of `POST /process`: the model's JSON, or an error body whose `error_type` tells the
/// cause apart within one status.
fn process_responses(response: Value, errors: &Errors) -> Value {
    errors.with_unauthorized(json!({
        "200": {"description": "The model's answer.", "content": {"application/json": {"schema": response}}},
        "400": errors.plain(
            "The body is not valid JSON (`malformed_json`) or could not be read (`body_read_failed`).",
        ),
        "408": errors.plain(
            "The body did not arrive within the read deadline (`request_timeout`); the request never reached the model.",
        ),
        "413": errors.plain("The body is larger than the configured limit (`payload_too_large`)."),
        "415": errors.plain("The body is not sent as `application/json` (`unsupported_media_type`)."),
        "422": errors.plain(
            "A field is missing, has the wrong type or is out of range (`validation_error`), or the model \
             refused a well-formed input (`invalid_input`); `field` names the field when there is one.",
        ),
        "4XX": errors.plain(
            "The model refused the request with a client-error status of its own choosing (a Python model \
             raising an exception with `status_code` and `detail`); `error_type` is `http_<status>`.",
        ),
        "500": errors.plain(
            "The model failed (`model_error`) or crashed (`model_panic`) on this request, its worker process \
             died (`worker_crashed`), or the server lost the worker (`internal_error`); the server keeps \
             serving and the log has the details.",
        ),
        "503": errors.retry(
            "The queue is full (`queue_full`), the model is not ready (`not_ready`), the server is shutting \
             down (`shutting_down`) or the request was cancelled (`canceled`); retry after `Retry-After` \
             seconds.",
        ),
        "504": errors.plain("The model did not answer within the configured timeout (`timeout`)."),
    }))
}

/// A 200 answer whose body is a JSON object.
fn json_object(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"type": "object"}}}})
}

/// Builds the error answers: the shared error body, with the headers that always come with a status.
struct Errors {
    /// The `ErrorBody` schema (a `$ref` into the components).
    schema: Value,
    /// Whether API keys are on, so the protected routes can answer 401.
    auth: bool,
}

impl Errors {
    /// An error answer with no header of its own.
    fn plain(&self, description: &str) -> Value {
        json!({"description": description, "content": {"application/json": {"schema": self.schema}}})
    }

    /// A 503: every one carries `Retry-After`.
    fn retry(&self, description: &str) -> Value {
        let mut response = self.plain(description);
        response["headers"] = json!({"Retry-After": {
            "description": "Seconds to wait before retrying (1 after `queue_full`, 5 otherwise).",
            "required": true,
            "schema": {"type": "integer", "minimum": 0},
        }});
        response
    }

    /// `responses` plus, when API keys are on, the 401 with its `WWW-Authenticate` challenge.
    fn with_unauthorized(&self, mut responses: Value) -> Value {
        if self.auth {
            let mut unauthorized = self.plain("The API key is missing or wrong (`unauthorized`).");
            unauthorized["headers"] = json!({"WWW-Authenticate": {
                "description": "The challenge: `Bearer realm=\"easymlserve\"`.",
                "required": true,
                "schema": {"type": "string"},
            }});
            responses["401"] = unauthorized;
        }
        responses
    }
}

#[cfg(test)]
mod tests {
    use easymlserve_core::{Service, ServiceError, ServiceSpec};
    use serde_json::Value;

    use super::openapi_document;

    struct Double;

    impl Service for Double {
        type Request = f64;
        type Response = f64;

        fn process(&self, x: f64) -> Result<f64, ServiceError> {
            Ok(2.0 * x)
        }
    }

    fn responses<'d>(document: &'d Value, path: &str, method: &str) -> &'d serde_json::Map<String, Value> {
        document["paths"][path][method]["responses"]
            .as_object()
            .expect("responses")
    }

    #[test]
    fn every_status_of_process_is_documented_with_the_error_body() {
        let document = openapi_document(&ServiceSpec::of(&Double), true);
        let process = responses(&document, "/process", "post");
        let statuses: Vec<&str> = process.keys().map(String::as_str).collect();
        assert_eq!(
            statuses,
            [
                "200", "202", "400", "401", "408", "413", "415", "422", "4XX", "500", "503", "504"
            ]
        );
        for (status, response) in process
            .iter()
            .filter(|(status, _)| !["200", "202"].contains(&status.as_str()))
        {
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                "{status}"
            );
        }
    }

    #[test]
    fn headers_that_always_come_with_a_status_are_documented() {
        let document = openapi_document(&ServiceSpec::of(&Double), true);
        for (path, method) in [("/process", "post"), ("/health/ready", "get")] {
            let header = &responses(&document, path, method)["503"]["headers"]["Retry-After"];
            assert_eq!(header["required"], true, "{path}");
            assert_eq!(header["schema"]["type"], "integer", "{path}");
        }
        for (path, method) in [("/process", "post"), ("/metrics", "get")] {
            let header = &responses(&document, path, method)["401"]["headers"]["WWW-Authenticate"];
            assert_eq!(header["required"], true, "{path}");
        }
    }

    #[test]
    fn every_job_route_is_documented_with_its_statuses() {
        let document = openapi_document(&ServiceSpec::of(&Double), true);
        for (path, method, ok) in [
            ("/jobs/{id}", "put", "202"),
            ("/jobs/{id}", "get", "200"),
            ("/jobs/{id}", "delete", "204"),
            ("/jobs/{id}/events", "get", "200"),
            ("/jobs/{id}/cancel", "post", "202"),
        ] {
            let answers = responses(&document, path, method);
            for status in [ok, "401", "403", "404", "503"] {
                if status == "404" && method == "put" {
                    continue;
                }
                assert!(answers.contains_key(status), "{method} {path} lacks {status}");
            }
        }
        let accepted = &document["paths"]["/process"]["post"]["responses"]["202"];
        assert_eq!(
            accepted["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/JobState"
        );
        assert!(document["components"]["schemas"]["JobState"]["properties"]["status"].is_object());
        for path in [
            "/v2",
            "/v2/health/ready",
            "/v2/models/{model}",
            "/v2/models/{model}/versions/{version}/infer",
        ] {
            assert!(document["paths"][path].is_object(), "{path} is documented");
        }
        let stream = &document["paths"]["/process"]["post"]["responses"]["200"]["content"];
        assert!(stream["text/event-stream"].is_object(), "{stream}");
    }

    #[test]
    fn no_401_without_api_keys() {
        let document = openapi_document(&ServiceSpec::of(&Double), false);
        for (path, method) in [("/process", "post"), ("/metrics", "get")] {
            assert!(!responses(&document, path, method).contains_key("401"), "{path}");
            assert_eq!(document["paths"][path][method]["security"], serde_json::json!([]));
        }
        assert!(document["components"].get("securitySchemes").is_none());
    }
}
