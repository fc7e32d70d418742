//! Serves the `{{name}}` model over REST with a GUI generated from its request schema:
//! `cargo run`, then open http://127.0.0.1:8000/ui/ (`--help` lists the flags).

use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    Server::new({{crate}}::Model::load()).with_generated_ui().run()
}
