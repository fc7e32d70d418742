//! The `easymlserve` command: call a running service from the shell, print its OpenAPI document, or
//! open a GUI for any running service from its `/api/spec` alone.
//!
//! `easymlserve call --url http://127.0.0.1:8000 --data @request.json`
//! `easymlserve ui --url http://gpu-box:8000` (desktop window; `--web` for a browser GUI instead)

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use easymlserve_client::Client;

#[derive(Debug, Parser)]
#[command(
    name = "easymlserve",
    version,
    about = "Talk to easymlserve services from the command line."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send one request to `POST /process` and print the answer.
    Call {
        /// Base URL of the service.
        #[arg(long, env = "EASYMLSERVE_URL", default_value = "http://127.0.0.1:8000")]
        url: String,
        /// The request: inline JSON, `@file.json`, or `-` for standard input.
        #[arg(long, short)]
        data: String,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 60.0)]
        timeout_secs: f64,
    },
    /// Print the OpenAPI document of a running service.
    Openapi {
        /// Base URL of the service.
        #[arg(long, env = "EASYMLSERVE_URL", default_value = "http://127.0.0.1:8000")]
        url: String,
    },
    /// Open a GUI for a running service, with a form generated from its request schema.
    Ui {
        /// Base URL of the service.
        #[arg(long, env = "EASYMLSERVE_URL", default_value = "http://127.0.0.1:8000")]
        url: String,
        /// Serve a web GUI on 127.0.0.1 instead of opening a desktop window.
        #[arg(long)]
        web: bool,
        /// Port of the web GUI.
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let work: std::pin::Pin<Box<dyn std::future::Future<Output = Result<String>>>> = match cli.command {
        // Both GUIs run their own event loop (the window's, or the web server's runtime).
        Command::Ui { url, web: true, port } => {
            return easymlserve_web::WebUi::generated()
                .service_url(url)
                .port(port)
                .run_without_args();
        }
        Command::Ui { url, web: false, .. } => {
            return easymlserve_desktop::DesktopUi::generated().service_url(url).run();
        }
        Command::Call {
            url,
            data,
            timeout_secs,
        } => Box::pin(async move { call_service(url, &data, timeout_secs).await }),
        Command::Openapi { url } => Box::pin(print_openapi(url)),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(work) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn call_service(url: String, data: &str, timeout_secs: f64) -> Result<String> {
    let request = read_request(data)?;
    let timeout = Duration::try_from_secs_f64(timeout_secs).context("`--timeout-secs` must be a positive number")?;
    let client = Client::new(url)?.timeout(timeout);
    let answer = client.process_json(&request).await?;
    Ok(serde_json::to_string_pretty(&answer)?)
}

async fn print_openapi(url: String) -> Result<String> {
    let document = Client::new(url)?.openapi().await?;
    Ok(serde_json::to_string_pretty(&document)?)
}

/// Reads the request JSON from the `--data` argument: inline, `@path`, or `-` for stdin.
fn read_request(data: &str) -> Result<serde_json::Value> {
    let text = if data == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the request from standard input")?;
        text
    } else if let Some(path) = data.strip_prefix('@') {
        std::fs::read_to_string(path).with_context(|| format!("cannot read the request file `{path}`"))?
    } else {
        data.to_owned()
    };
    serde_json::from_str(&text).context("the request is not valid JSON")
}
