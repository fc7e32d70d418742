//! `UiApiError`: the one error type of the GUI routes, in the REST error shape plus the `field` (the
//! input name) the page shows the message next to. A service's error names a request field
//! (`time[3]`); [`UiApiError::from_service`] turns it into the input that produced it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use easymlserve_core::{CallError, ErrorBody};
use easymlserve_ui::{UiError, UiSession};

/// An error answer of `/ui/submit`, `/ui/preview` or the `/ui/jobs` routes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .body.error)]
pub struct UiApiError {
    /// HTTP status.
    pub status: u16,
    /// `{"error", "error_type", "field"}`.
    pub body: ErrorBody,
}

impl UiApiError {
    fn new(status: u16, error_type: &str, error: String, field: Option<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error,
                error_type: error_type.to_owned(),
                field,
            },
        }
    }

    /// 422: what the user entered is not usable.
    pub fn invalid(err: UiError) -> Self {
        Self::new(422, "invalid_input", err.message, err.field)
    }

    /// 400: the form data could not be read.
    pub fn bad_form(message: impl Into<String>) -> Self {
        Self::new(400, "bad_form", message.into(), None)
    }

    /// 413: the upload is over the limit.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            413,
            "payload_too_large",
            format!("the upload is larger than the limit of {limit} bytes"),
            None,
        )
    }

    /// 503: the model has not loaded yet, so the GUI generated from its spec does not exist yet.
    pub fn not_ready() -> Self {
        Self::new(
            503,
            "not_ready",
            "the model is still loading; the form appears once it is ready".to_owned(),
            None,
        )
    }

    /// 500: the UI's own code failed to present the answer.
    pub fn presentation(err: UiError) -> Self {
        Self::new(
            500,
            "ui_error",
            format!("the answer could not be shown: {}", err.message),
            None,
        )
    }

    /// 501: the service offers no jobs, so the page submits with `/ui/submit` and shows no progress.
    pub fn no_jobs() -> Self {
        Self::new(
            501,
            "jobs_unavailable",
            "this service offers no jobs; submit the form with /ui/submit".to_owned(),
            None,
        )
    }

    /// 404: the page submitted no job `id`, or so many since that it was forgotten.
    pub fn no_job(id: &str) -> Self {
        Self::new(
            404,
            "job_not_found",
            format!("no job `{id}` was submitted from this page, or it was forgotten"),
            None,
        )
    }

    /// 403: the job was submitted with another API key.
    pub fn not_owner() -> Self {
        Self::new(
            403,
            "forbidden",
            "this job was submitted with another API key".to_owned(),
            None,
        )
    }

    /// 500: rendering the answer failed part-way before, so it cannot be shown.
    pub fn presentation_lost() -> Self {
        Self::new(
            500,
            "ui_error",
            "the answer could not be shown: rendering it failed before".to_owned(),
            None,
        )
    }

    /// The service answered with an error, or could not be reached (502). `inputs` are the input
    /// names: a REST `field` that is not one of them is dropped, so the page shows the error on top.
    pub fn from_call(err: CallError, inputs: &[String]) -> Self {
        let CallError { status, mut body } = err;
        body.field = body.field.filter(|f| inputs.contains(f));
        Self {
            status: status.unwrap_or(502),
            body,
        }
    }
}

impl UiApiError {
    /// The service refused or failed a request the form produced: a `field` it names (a request path
    /// such as `time[3]`, from the server's validation or the model) becomes the input that produced
    /// it, as `session`'s UI maps it, so the page shows the message next to that input; a field no
    /// input produced is dropped and the message shows on top.
    pub fn from_service(err: CallError, session: &UiSession) -> Self {
        let CallError { status, mut body } = err;
        body.field = body.field.and_then(|field| session.input_for_field(&field));
        Self {
            status: status.unwrap_or(502),
            body,
        }
    }
}

impl IntoResponse for UiApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body)).into_response()
    }
}
