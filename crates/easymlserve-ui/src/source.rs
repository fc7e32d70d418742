//! `GuiSource`: where a standalone GUI (the web GUI as its own process, the desktop window) gets its
//! UI description: a `Ui` given in code, or a form generated from the service's `/api/spec` once the
//! GUI has reached the service. Both GUIs resolve it the same way, and both fill a given UI's empty
//! title (and empty description) with the service's name (and description), as the co-hosted GUI does.

use std::future::Future;
use std::sync::Arc;

use easymlserve_core::ServiceSpec;

use crate::{DynUi, InputValues, OutputValues, Prepared, Ui, UiError, UiSpec, generated_ui};

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

    /// The UI: the given one, or the one generated from the spec that `fetch_spec` reads. The spec is
    /// read only for a generated form or a given UI without a title, so a GUI with its own titled UI
    /// starts without reaching the service. A given UI with an empty title shows the service's name (and, if its description
    /// is empty too, the service's description); when the service cannot be reached then, the UI is
    /// kept as given, so the GUI still starts and reports the service as down on a submit.
    pub async fn resolve<F, Fut, E>(self, fetch_spec: F) -> Result<Arc<dyn DynUi>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<ServiceSpec, E>>,
    {
        match self {
            Self::Given(ui) if !ui.spec().title.is_empty() => Ok(ui),
            Self::Given(ui) => Ok(match fetch_spec().await {
                Ok(spec) => Arc::new(WithServiceTexts {
                    ui,
                    name: spec.info.name,
                    description: spec.info.description,
                }),
                Err(_) => ui,
            }),
            Self::FromServiceSchema => Ok(generated_ui(&fetch_spec().await?)),
        }
    }
}

/// A given UI whose empty title and description show the service's.
struct WithServiceTexts {
    ui: Arc<dyn DynUi>,
    name: String,
    description: String,
}

impl DynUi for WithServiceTexts {
    fn spec(&self) -> UiSpec {
        let mut spec = self.ui.spec();
        if spec.title.is_empty() {
            spec.title.clone_from(&self.name);
        }
        if spec.description.is_empty() {
            spec.description.clone_from(&self.description);
        }
        spec
    }

    fn prepare(&self, inputs: &InputValues) -> Result<Prepared, UiError> {
        self.ui.prepare(inputs)
    }

    fn present(&self, prepared: Prepared, response: serde_json::Value) -> Result<OutputValues, UiError> {
        self.ui.present(prepared, response)
    }

    fn present_bytes(&self, prepared: Prepared, response: &[u8]) -> Result<OutputValues, UiError> {
        self.ui.present_bytes(prepared, response)
    }

    fn restore(&self, json: serde_json::Value) -> Result<Prepared, UiError> {
        self.ui.restore(json)
    }

    fn input_for_field(&self, field: &str) -> Option<String> {
        self.ui.input_for_field(field)
    }

    fn examples(&self) -> Vec<super::Example> {
        self.ui.examples()
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

    #[test]
    fn a_given_ui_without_a_title_takes_the_services_name_and_description() {
        let mut info = ServiceInfo::new("Echo");
        info.description = "Repeats a text.".to_owned();
        let spec = ServiceSpec::new(info, json!({}), json!({}));
        let untitled = GuiSource::given(SchemaUi::from_schema("", "", &json!({})));
        let ui = now(untitled.resolve(|| std::future::ready(Ok::<_, String>(spec.clone())))).unwrap();
        assert_eq!(
            (ui.spec().title.as_str(), ui.spec().description.as_str()),
            ("Echo", "Repeats a text.")
        );

        let own_description = GuiSource::given(SchemaUi::from_schema("", "Mine.", &json!({})));
        let ui = now(own_description.resolve(|| std::future::ready(Ok::<_, String>(spec)))).unwrap();
        assert_eq!(
            (ui.spec().title.as_str(), ui.spec().description.as_str()),
            ("Echo", "Mine.")
        );

        let down = GuiSource::given(SchemaUi::from_schema("", "", &json!({})));
        let ui = now(down.resolve(|| std::future::ready(Err::<ServiceSpec, _>("down")))).unwrap();
        assert_eq!(ui.spec().title, "", "kept as given when the service is down");
    }
}
