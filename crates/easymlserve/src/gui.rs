//! `ServeUi`: adds the web GUI to a `Server`, so `Server::new(service).with_ui(ui).run()` serves the REST
//! API and the GUI from one process. Lives in the facade because the server and the web GUI are
//! sibling crates that do not know each other.
//!
//! The Ui is tied to its service: `with_ui` on a `Server<S>` of a typed service compiles only for a
//! `Ui` whose `Request` and `Response` are `S`'s (checked by [`Accepts`]); a `Server<Dynamic>` (Python,
//! ONNX, any backend) takes any `Ui`, since its types exist only at run time and the GUI talks JSON to
//! it, validated against the loaded schema. A Ui that leaves its title or description empty shows the
//! service's `info()` name and description instead.

use std::sync::Arc;

use easymlserve_server::{Accepts, Mount, MountContext, Server};
use easymlserve_ui::{DynUi, Ui, generated_ui};
use easymlserve_web::{PageInfo, ServiceTexts, UiRunner, UiSource, fill_texts, start_example_cache, ui_routes};

/// Mounts a web GUI at `/ui` on a server.
pub trait ServeUi: Sized {
    /// The served service's type: a typed [`Service`](easymlserve_core::Service), or
    /// [`Dynamic`](easymlserve_server::Dynamic) for a backend.
    type Service;

    /// Serves `ui` at `/ui`, running its `prepare_request` and `process_response` in this process. For a
    /// typed service the Ui must have the service's request and response types (else this does not
    /// compile); an empty `title()` or `description()` is filled from the service's `info()`.
    #[must_use]
    fn with_ui<U: Ui>(self, ui: U) -> Self
    where
        Self::Service: Accepts<U::Request, U::Response>;

    /// Serves a GUI generated from the model's request JSON Schema at `/ui`. The schema is the one the
    /// model reports once loaded, so this works for every kind of model.
    #[must_use]
    fn with_generated_ui(self) -> Self;
}

impl<S> ServeUi for Server<S> {
    type Service = S;

    fn with_ui<U: Ui>(self, ui: U) -> Self
    where
        S: Accepts<U::Request, U::Response>,
    {
        let ui: Arc<dyn DynUi> = Arc::new(ui);
        let own = ui.spec();
        self.ui_spec(move |spec| {
            let mut texts = own.clone();
            fill_texts(&mut texts, spec.info.name.clone(), spec.info.description.clone());
            serde_json::to_value(texts).ok()
        })
        .mount(move |ctx| {
            // The service's info is part of its loaded spec, so the GUI answers once the model loaded
            // (503 before, which the page waits out), with the texts known from its first page.
            let loaded = Arc::clone(&ctx.spec);
            let build: UiSource = Arc::new(move || loaded().map(|_| Arc::clone(&ui)));
            let info = Arc::clone(&ctx.spec);
            let texts: ServiceTexts =
                Arc::new(move || info().map(|spec| (spec.info.name.clone(), spec.info.description.clone())));
            mount(ctx, |caller, page, limit| {
                UiRunner::lazy(build, caller, page, limit).with_service_texts(texts)
            })
        })
    }

    fn with_generated_ui(self) -> Self {
        self.ui_spec(|spec| serde_json::to_value(generated_ui(spec).spec()).ok())
            .mount(|ctx| {
                let loaded = Arc::clone(&ctx.spec);
                let build: UiSource = Arc::new(move || loaded().map(|spec| generated_ui(&spec)));
                mount(ctx, |caller, page, limit| UiRunner::lazy(build, caller, page, limit))
            })
    }
}

/// The GUI's routes as a mount, around the runner that `runner` makes from the caller, the page
/// settings and the upload limit.
fn mount(
    ctx: MountContext,
    runner: impl FnOnce(Arc<dyn easymlserve_core::ServiceCaller>, PageInfo, usize) -> UiRunner,
) -> Mount {
    let page = PageInfo {
        process_url: None,
        auth_required: ctx.auth_required,
    };
    let runner = Arc::new(runner(ctx.caller, page, ctx.body_limit).with_cached_examples(ctx.cache_examples));
    // `--cache-examples`: the examples run once the model is ready, on the server's runtime.
    start_example_cache(&runner);
    let routes = ui_routes(runner);
    Mount {
        public: routes.public,
        protected: Some(routes.protected),
        home: Some("/ui/".to_owned()),
    }
}
