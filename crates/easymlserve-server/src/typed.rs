//! `TypedBackend`: a typed Rust [`Service`] as a [`Backend`]. The service keeps its compile-time
//! request and response types; this adapter reads the validated JSON into them, runs `process_with`
//! with the request's context, and writes the response back as JSON.

use bytes::Bytes;
use easymlserve_core::{Service, ServiceError, ServiceSpec};

use crate::backend::{Backend, Item, LoadError, ModelError};
use crate::validate::{RequestError, deserialize};

/// Serves a typed [`Service`] through the non-generic engine.
pub struct TypedBackend<S: Service> {
    service: S,
}

impl<S: Service> TypedBackend<S> {
    /// Wraps `service`; its model is not loaded yet.
    pub fn new(service: S) -> Self {
        Self { service }
    }

    /// The service.
    pub fn service(&self) -> &S {
        &self.service
    }
}

fn request_error(err: RequestError) -> ModelError {
    let field = err.field().unwrap_or_default().to_owned();
    ModelError::InvalidRequest {
        field,
        message: err.to_string(),
    }
}

fn encode<T: serde::Serialize>(result: Result<T, ServiceError>) -> Result<Bytes, ModelError> {
    let response = result?;
    serde_json::to_vec(&response)
        .map(Bytes::from)
        .map_err(|e| ModelError::Failed(format!("the response could not be encoded as JSON: {e}")))
}

impl<S: Service> Backend for TypedBackend<S> {
    fn describe(&self) -> Option<ServiceSpec> {
        Some(ServiceSpec::of(&self.service))
    }

    fn load(&mut self) -> Result<ServiceSpec, LoadError> {
        self.service
            .load_model()
            .map_err(|err| LoadError::new(err.to_string()))?;
        Ok(ServiceSpec::of(&self.service))
    }

    fn run(&self, item: Item) -> Result<Bytes, ModelError> {
        let request: S::Request = deserialize(item.request).map_err(request_error)?;
        encode(self.service.process_with(request, &item.ctx))
    }

    fn run_batch(&self, items: Vec<Item>) -> Vec<Result<Bytes, ModelError>> {
        // Items that cannot be read as the request type fail alone; the rest go to one batch call.
        let mut outcomes: Vec<Option<Result<Bytes, ModelError>>> = Vec::with_capacity(items.len());
        let mut requests = Vec::with_capacity(items.len());
        for item in items {
            match deserialize::<S::Request>(item.request) {
                Ok(request) => {
                    requests.push(request);
                    outcomes.push(None);
                }
                Err(err) => outcomes.push(Some(Err(request_error(err)))),
            }
        }
        let count = requests.len();
        let mut results = self.service.process_batch(requests).into_iter();
        let answered = results.len();
        // A miscounting batch fails every request it should have answered (a request's own error stays).
        let miscounted = || {
            ModelError::Failed(format!(
                "process_batch returned {answered} results for {count} requests"
            ))
        };
        outcomes
            .into_iter()
            .map(|slot| {
                slot.unwrap_or_else(|| match results.next().map(encode) {
                    Some(Ok(_)) if answered != count => Err(miscounted()),
                    Some(outcome) => outcome,
                    None => Err(miscounted()),
                })
            })
            .collect()
    }

    fn runs_inline(&self) -> bool {
        self.service.runs_inline()
    }
}
