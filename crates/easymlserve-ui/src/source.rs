//! `GuiSource`: where a standalone GUI (the web GUI as its own process, the desktop window) gets its
//! UI description: a `Ui` given in code, or a form generated from the service's `/api/spec` once the
//! GUI has reached the service. Both GUIs resolve it the same way.

use std::future::Future;
use std::sync::Arc;

use easymlserve_core::ServiceSpec;

use crate::{DynUi, Ui, generated_ui};

/// Where a GUI's UI description comes from.
#[derive(Clone)]
pub enum GuiSource {
    /// A UI written for the service.
    Given(Arc<dyn DynUi>),
    /// The form generated from the service's spec (its request schema or tensor signature).
    FromServiceSchema,
}

impl std::fmt::Debug for GuiSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Given(ui) => f.debug_tuple("Given").field(&ui.spec().title).finish(),
            Self::FromServiceSchema => f.write_str("FromServiceSchema"),
        }
    }
}

impl GuiSource {
    /// A UI written for the service.
    pub fn given(ui: impl Ui) -> Self {
        Self::Given(Arc::new(ui))
    }

    /// The UI: the given one, or the one generated from the spec that `fetch_spec` reads (called only
    /// then, so a GUI with its own UI starts without reaching the service).
    pub async fn resolve<F, Fut, E>(self, fetch_spec: F) -> Result<Arc<dyn DynUi>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ServiceSpec, E>>,
    {
        match self {
            Self::Given(ui) => Ok(ui),
            Self::FromServiceSchema => Ok(generated_ui(&fetch_spec().await?)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::cell::Cell;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use easymlserve_core::ServiceInfo;
    use serde_json::json;

    use super::*;
    use crate::SchemaUi;

    /// Runs a future that never waits (both fetches below answer at once).
    fn now<T>(future: impl Future<Output = T>) -> T {
        match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(value) => value,
            Poll::Pending => panic!("the future waited"),
        }
    }

    fn spec() -> ServiceSpec {
        let schema = json!({"type": "object", "properties": {"repeat": {"type": "integer"}}});
        ServiceSpec::new(ServiceInfo::new("Echo"), schema, json!({}))
    }

    #[test]
    fn a_given_ui_never_fetches_and_a_generated_one_fetches_once() {
        let fetched = Cell::new(0);
        let fetch = || {
            fetched.set(fetched.get() + 1);
            std::future::ready(Ok::<_, String>(spec()))
        };
        let given = GuiSource::given(SchemaUi::from_schema("Mine", "", &json!({})));
        let ui = now(given.resolve(fetch)).unwrap();
        assert_eq!((ui.spec().title.as_str(), fetched.get()), ("Mine", 0));

        let fetch = || {
            fetched.set(fetched.get() + 1);
            std::future::ready(Ok::<_, String>(spec()))
        };
        let ui = now(GuiSource::FromServiceSchema.resolve(fetch)).unwrap();
        let names: Vec<_> = ui.spec().inputs.into_iter().map(|i| i.name).collect();
        assert_eq!(
            (ui.spec().title.as_str(), names, fetched.get()),
            ("Echo", vec!["repeat".to_owned()], 1)
        );

        let failed = now(GuiSource::FromServiceSchema.resolve(|| std::future::ready(Err::<ServiceSpec, _>("down"))));
        assert_eq!(failed.err(), Some("down"));
    }
}
