//! `ServeUi`: adds the web GUI to a `Server`, so `Server::new(service).with_ui(ui).run()` serves the REST
//! API and the GUI from one process. Lives in the facade because the server and the web GUI are
//! sibling crates that do not know each other.

use std::sync::Arc;

use easymlserve_server::{Mount, MountContext, Server};
use easymlserve_ui::{DynUi, Ui, generated_ui};
use easymlserve_web::{PageInfo, UiRunner, UiSource, ui_routes};

/// Mounts a web GUI at `/ui` on a server.
pub trait ServeUi {
    /// Serves `ui` at `/ui`, running its `prepare_request` and `process_response` in this process.
    #[must_use]
    fn with_ui<U: Ui>(self, ui: U) -> Self;

    /// Serves a GUI generated from the model's request JSON Schema at `/ui`. The schema is the one the
    /// model reports once loaded, so this works for every kind of model.
    #[must_use]
    fn with_generated_ui(self) -> Self;
}

impl<S> ServeUi for Server<S> {
    fn with_ui<U: Ui>(self, ui: U) -> Self {
        let ui: Arc<dyn DynUi> = Arc::new(ui);
        let spec = serde_json::to_value(ui.spec()).ok();
        self.ui_spec(move |_| spec.clone())
            .mount(move |ctx| mount(ctx, |caller, page, limit| UiRunner::new(ui, caller, page, limit)))
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
    let routes = ui_routes(Arc::new(runner(ctx.caller, page, ctx.body_limit)));
    Mount {
        public: routes.public,
        protected: Some(routes.protected),
        home: Some("/ui/".to_owned()),
    }
}
