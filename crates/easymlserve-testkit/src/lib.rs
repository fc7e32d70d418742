//! Test helpers shared by the easymlserve crates and examples, so every GUI test drives the browser and
//! starts servers the same way: [`Browser`] (headless Chromium) and [`serve`] (a server on 127.0.0.1:0).

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)] // test helpers fail loudly, with a message

mod browser;

use std::time::Duration;

use easymlserve_server::Server;

pub use browser::Browser;

/// Serves `server` on 127.0.0.1:0 in the current tokio runtime until the process ends, waits until it
/// is ready, and returns its base URL.
pub async fn serve<S: 'static>(server: Server<S>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    let client = easymlserve_client::Client::new(url.clone()).unwrap();
    let mut waited = Duration::ZERO;
    while client.ready().await.is_err() {
        assert!(
            waited < Duration::from_secs(120),
            "the server at {url} did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += Duration::from_millis(10);
    }
    url
}

/// Like [`serve`], for tests without an async runtime (GUI tests): starts a runtime of its own, which
/// must be kept alive as long as the server is needed.
pub fn serve_blocking<S: 'static>(server: Server<S>) -> (String, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = runtime.block_on(serve(server));
    (url, runtime)
}
