//! `ServeUi`: adds the web GUI to a `Server`, so `Server::new(service).with_ui(ui).run()` serves the REST
//! API and the GUI from one process. Lives in the facade because the server and the web GUI are
//! sibling crates that do not know each other.

use std::sync::Arc;

use easymlserve_core::Service;
use easymlserve_core::ui::{DynUi, SchemaUi, Ui};
use easymlserve_server::{Mount, Server};
use easymlserve_web::{PageInfo, UiRunner, ui_routes};

/// Mounts a web GUI at `/ui` on a server.
pub trait ServeUi {
    /// Serves `ui` at `/ui`, running its `prepare_request` and `process_response` in this process.
    #[must_use]
    fn with_ui<U: Ui>(self, ui: U) -> Self;

    /// Serves a GUI generated from the service's request JSON Schema at `/ui`.
    #[must_use]
    fn with_generated_ui(self) -> Self;
}

impl<S: Service> ServeUi for Server<S> {
    fn with_ui<U: Ui>(self, ui: U) -> Self {
        mount(self, Arc::new(ui))
    }

    fn with_generated_ui(self) -> Self {
        let info = self.service().info();
        let schema = easymlserve_core::schema_for::<S::Request>();
        let ui = SchemaUi::from_schema(info.name, info.description, &schema);
        mount(self, Arc::new(ui))
    }
}

fn mount<S: Service>(server: Server<S>, ui: Arc<dyn DynUi>) -> Server<S> {
    let spec = serde_json::to_value(ui.spec()).ok();
    server.mount(spec, move |ctx| {
        let page = PageInfo {
            process_url: None,
            auth_required: ctx.auth_required,
        };
        let routes = ui_routes(Arc::new(UiRunner::new(ui, ctx.caller, page, ctx.body_limit)));
        Mount {
            public: routes.public,
            protected: Some(routes.protected),
            home: Some("/ui/".to_owned()),
        }
    })
}
