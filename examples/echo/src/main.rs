//! Serves the echo service: `cargo run -p echo` (flags: `--help`; `openapi` prints the document).

fn main() -> std::process::ExitCode {
    easymlserve::Server::new(echo::Echo).run()
}
