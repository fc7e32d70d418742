//! The job routes and the two other answers of `POST /process` (an event stream, a job) in the OpenAPI
//! document, with the job state's schema from its Rust type.

use easymlserve_core::{JobState, schema_for};
use serde_json::{Value, json};

use super::Errors;
use super::components::Components;

/// What SSE events a stream carries, for the descriptions.
const EVENTS: &str = "Server-Sent Events: `queued` (`{\"position\"}`), `started`, `progress` (`{\"fraction\", \
                      \"message\", \"elapsed_s\", \"eta_s\"}`), then exactly one `result` (the response JSON) or \
                      `error` (the error body with `status`); `: keep-alive` comments meanwhile. See docs/jobs.md.";

fn job_state_schema(components: &mut Components) -> Value {
    let mut schema = schema_for::<JobState>();
    if let Some(object) = schema.as_object_mut() {
        object.remove("$schema");
        object.remove("title");
    }
    components.lift(&schema, "JobState")
}

/// The parameters and answers `POST /process` gains: `Prefer`, `Accept`, the 202 and the stream.
pub(super) fn extend_process(process: &mut Value, state: &Value) {
    process["parameters"] = json!([
        {"name": "Prefer", "in": "header", "required": false, "schema": {"type": "string"},
         "description": "`respond-async` submits the request as a job: 202 and `Location: /jobs/{id}`."},
        {"name": "Accept", "in": "header", "required": false, "schema": {"type": "string"},
         "description": "`text/event-stream` answers with Server-Sent Events on the same connection; closing it cancels the request."},
    ]);
    let responses = &mut process["responses"];
    responses["200"]["content"]["text/event-stream"] = json!({"schema": {"type": "string", "description": EVENTS}});
    responses["202"] = accepted(state);
}

fn accepted(state: &Value) -> Value {
    json!({
        "description": "Accepted as a job (`Prefer: respond-async`, or a new `PUT /jobs/{id}`).",
        "headers": {
            "Location": {"description": "`/jobs/{id}`.", "required": true, "schema": {"type": "string"}},
            "Preference-Applied": {"description": "`respond-async`.", "required": true, "schema": {"type": "string"}},
        },
        "content": {"application/json": {"schema": state}},
    })
}

/// The `/jobs/...` paths, and the job state's schema (a `$ref`) for `POST /process`'s 202.
pub(super) fn paths(components: &mut Components, request: &Value, errors: &Errors, security: &Value) -> (Value, Value) {
    let state = job_state_schema(components);
    let id = json!({"name": "id", "in": "path", "required": true,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"}, "description": "The job's id."});
    let unavailable = errors.retry(
        "Over the job bounds (`jobs_full`), the job store is unreachable (`job_store_unavailable`), or the \
         model is not ready (`not_ready`).",
    );
    let not_found = errors.plain("No such job (`job_not_found`): never submitted, expired, or deleted.");
    let forbidden = errors.plain("The job was submitted with another API key (`forbidden`).");
    let read = |summary: &str, op: &str, ok: Value| {
        json!({
            "summary": summary, "operationId": op, "security": security, "parameters": [id],
            "responses": errors.with_unauthorized(json!({
                "200": ok, "403": forbidden, "404": not_found, "503": unavailable,
            })),
        })
    };
    let state_ok = json!({"description": "The job's state.", "content": {"application/json": {"schema": state}}});
    let mut get = read(
        "The job's state, with its result or error once it ended",
        "getJob",
        state_ok.clone(),
    );
    let mut events = read(
        "The job's events as Server-Sent Events, each with an `id:`; `Last-Event-ID` replays after it",
        "jobEvents",
        json!({"description": EVENTS, "content": {"text/event-stream": {"schema": {"type": "string"}}}}),
    );
    events["parameters"] = json!([id, {"name": "Last-Event-ID", "in": "header", "required": false,
        "schema": {"type": "string"}, "description": "Resume after this event number."}]);
    let mut cancel = read("Cancel a queued or running job", "cancelJob", state_ok.clone());
    if let Some(r) = cancel["responses"].as_object_mut() {
        r.remove("200");
    }
    cancel["responses"]["202"] =
        json!({"description": "The job's state after the cancel.", "content": {"application/json": {"schema": state}}});
    let mut delete = read("Forget the job (canceling it first if it runs)", "deleteJob", json!({}));
    if let Some(r) = delete["responses"].as_object_mut() {
        r.remove("200");
    }
    delete["responses"]["204"] = json!({"description": "Deleted."});
    let mut put = json!({
        "summary": "Submit a job under an id the client chose; a retry with the same body finds it",
        "operationId": "putJob", "security": security, "parameters": [id],
        "requestBody": {"required": true, "content": {"application/json": {"schema": request}}},
        "responses": errors.with_unauthorized(json!({
            "200": {"description": "A job with this id and body exists: its state.", "content": {"application/json": {"schema": state}}},
            "202": accepted(&state),
            "400": errors.plain("The body is not valid JSON (`malformed_json`)."),
            "403": forbidden,
            "409": errors.plain("A job with this id exists with another body (`job_conflict`)."),
            "413": errors.plain("The body is larger than the configured limit (`payload_too_large`)."),
            "415": errors.plain("The body is not sent as `application/json` (`unsupported_media_type`)."),
            "422": errors.plain("A field is invalid (`validation_error`) or the id is not usable (`invalid_job_id`)."),
            "503": unavailable,
        })),
    });
    get["tags"] = json!(["jobs"]);
    for op in [&mut events, &mut cancel, &mut delete, &mut put] {
        op["tags"] = json!(["jobs"]);
    }
    let paths = json!({
        "/jobs/{id}": {"put": put, "get": get, "delete": delete},
        "/jobs/{id}/events": {"get": events},
        "/jobs/{id}/cancel": {"post": cancel},
    });
    (paths, state)
}
