//! `ServiceSpec`: the machine-readable description of a service served at `GET /api/spec`.

use serde::{Deserialize, Serialize};

use crate::{Service, ServiceInfo};

/// Name, version, description and the request and response JSON Schemas of a service.
///
/// GUIs build their forms from it; `ui` holds the UI components when a UI description is attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// Who the service is.
    #[serde(flatten)]
    pub info: ServiceInfo,
    /// JSON Schema of the request body.
    pub request_schema: serde_json::Value,
    /// JSON Schema of the response body.
    pub response_schema: serde_json::Value,
    /// An example request body, when the service gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_request: Option<serde_json::Value>,
    /// The UI components, when a UI description is attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<serde_json::Value>,
}

impl ServiceSpec {
    /// The spec of `service`, with schemas generated from its types.
    pub fn of<S: Service>(service: &S) -> Self {
        Self {
            info: service.info(),
            request_schema: crate::schema_for::<S::Request>(),
            response_schema: crate::schema_for::<S::Response>(),
            example_request: service.example_request(),
            ui: None,
        }
    }
}
