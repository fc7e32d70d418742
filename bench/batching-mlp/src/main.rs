//! Serves the benchmark MLP: `batching-mlp --max-batch-size 32` batches, `--max-batch-size 1` does not.
//! `BATCHING_MLP_HIDDEN` sets the hidden layer width (default 2048). `bench/batching.sh` runs both
//! settings under the same load.

use batching_mlp::{DEFAULT_HIDDEN, MlpService};
use easymlserve::prelude::*;

fn main() -> std::process::ExitCode {
    let hidden = match std::env::var("BATCHING_MLP_HIDDEN") {
        Err(_) => DEFAULT_HIDDEN,
        Ok(text) => match text.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("error: BATCHING_MLP_HIDDEN must be a positive whole number, got {text:?}");
                return std::process::ExitCode::FAILURE;
            }
        },
    };
    Server::new(MlpService::new(42, hidden)).run()
}
