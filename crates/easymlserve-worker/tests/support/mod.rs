//! What both test binaries of this crate (`python.rs`, `queue.rs`) stand on: the test interpreter, the
//! test services' paths, and a Python service served in process on 127.0.0.1:0 whose workers stop when
//! the test ends. Each binary adds its own request helpers to `Served` beside its tests.

#![allow(dead_code)] // each binary uses its own part

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use easymlserve_core::ServiceSpec;
use easymlserve_server::{AppState, Backend, Item, LoadError, ModelError, Readiness, RunFuture, Server, ServerConfig};
use easymlserve_worker::{PythonBackend, PythonConfig};

/// The test interpreter, or `None` (with the skip message) when it is not set up.
pub fn python_bin() -> Option<PathBuf> {
    match std::env::var_os("EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2") {
        Some(venv) => Some(PathBuf::from(venv).join("bin/python")),
        None => {
            eprintln!("skipped: EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2 is not set; scripts/test creates it");
            None
        }
    }
}

pub fn service(file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/services")
        .join(file)
        .display()
        .to_string()
}

/// The backend, shared with the test so that it can be shut down when the test ends: a test process
/// may exit before the engine's threads drop the backend, which would leave its temporary directories.
#[derive(Clone)]
pub struct Shared(pub Arc<RwLock<PythonBackend>>);

impl Backend for Shared {
    fn load(&mut self) -> Result<ServiceSpec, LoadError> {
        self.0.write().unwrap_or_else(PoisonError::into_inner).load()
    }

    fn run(&self, item: Item) -> Result<Bytes, ModelError> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).run(item)
    }

    fn runs_async(&self) -> bool {
        self.0.read().unwrap_or_else(PoisonError::into_inner).runs_async()
    }

    fn run_async(&self, item: Item) -> RunFuture {
        self.0.read().unwrap_or_else(PoisonError::into_inner).run_async(item)
    }

    fn run_batch(&self, items: Vec<Item>) -> Vec<Result<Bytes, ModelError>> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).run_batch(items)
    }

    fn shutdown(&self) {
        self.0.read().unwrap_or_else(PoisonError::into_inner).shutdown();
    }
}

/// A Python service served on 127.0.0.1:0; shut down (workers stopped, temporary directories removed)
/// when dropped.
pub struct Served {
    pub url: String,
    pub state: AppState,
    pub http: reqwest::Client,
    pub backend: Shared,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.backend.shutdown();
    }
}

impl Served {
    pub async fn start(python: PathBuf, file: &str, config: ServerConfig, cancel_grace: Duration) -> Self {
        let backend = Shared(Arc::new(RwLock::new(PythonBackend::new(PythonConfig {
            service: service(file),
            python_bin: python,
            workers: config.workers,
            start_timeout: Duration::from_secs(60),
            cancel_grace,
        }))));
        let (state, router) = Server::from_backend(backend.clone()).config(config).into_parts();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        let loader = state.clone();
        tokio::spawn(async move { loader.load().await });
        let started = Instant::now();
        while state.engine().readiness() == Readiness::Loading {
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "the Python service did not load"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Self {
            url,
            state,
            http: reqwest::Client::new(),
            backend,
        }
    }
}
