//! Serves the echo service and its web GUI: `cargo run -p echo`, then open http://127.0.0.1:8000/ui/
//! (flags: `--help`; `openapi` prints the OpenAPI document). The GUI is generated from the schemas.

use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    Server::new(echo::Echo).with_generated_ui().run()
}
