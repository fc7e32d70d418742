//! The `easymlserve` command: serve a Python model, call a running service from the shell, print its
//! OpenAPI document, or open a GUI for any running service from its `/api/spec` alone.
//!
//! `easymlserve serve model.onnx` (an ONNX file, no code: REST API, inference protocol, web GUI at /ui/)
//! `easymlserve serve --python service.py[:ClassName] --workers 2` (a Python service in worker processes)
//! `easymlserve serve --model-dir /mnt/models` (the one `.onnx` file or the `service.py` in a directory;
//! `STORAGE_URI` when no model is named, as KServe sets it)
//! `easymlserve call --url http://127.0.0.1:8000 --data @request.json` (`--async`: as a job, with a
//! progress bar on standard error; Ctrl-C cancels it)
//! `easymlserve ui --url http://gpu-box:8000` (desktop window; `--web` for a browser GUI instead)
//! `easymlserve init NAME [--python | --onnx FILE]` (a new project that builds, tests and serves a GUI)

mod call;
mod deploy;
mod init;
mod model_dir;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{ArgGroup, Parser, Subcommand};
use easymlserve::ServeUi;
use easymlserve::server::{ServeArgs, Server};
use easymlserve_client::Client;
use easymlserve_onnx::{OnnxBackend, OnnxConfig, RuntimeChoice};
use easymlserve_worker::{PythonBackend, PythonConfig};

#[derive(Debug, Parser)]
#[command(
    name = "easymlserve",
    version,
    about = "Serve models, and talk to easymlserve services from the command line."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a model over REST, with a web GUI generated from its request schema at /ui/.
    Serve(Box<ServeCommand>),
    /// Send one request to `POST /process` and print the answer.
    Call {
        /// Run the request as a job: show its queue position, progress and ETA on standard error
        /// while it runs (Ctrl-C cancels it), then print the result.
        #[arg(long = "async")]
        background: bool,
        /// Base URL of the service.
        #[arg(long, env = "EASYMLSERVE_URL", default_value = "http://127.0.0.1:8000")]
        url: String,
        /// The request: inline JSON, `@file.json`, or `-` for standard input.
        #[arg(long, short)]
        data: String,
        /// Seconds to wait for the answer (with `--async`: for the job's next event or keep-alive).
        #[arg(long, default_value_t = 60.0)]
        timeout_secs: f64,
    },
    /// Write a new project that builds, passes its own test and serves a GUI as written.
    ///
    /// `init NAME` writes a Rust crate NAME/ with a service, its test over HTTP and a README; `--python`
    /// a Python service (`service.py`, pydantic) with its requirements; `--onnx FILE` the model copied
    /// into `models/` with `serve.sh` holding its serve command. Each serves a GUI generated from its
    /// request schema at http://127.0.0.1:8000/ui/; its README says how to run, test and call it.
    Init(init::InitCommand),
    /// Write deployment files: Kubernetes manifests, KServe resources or a Dockerfile.
    #[command(subcommand)]
    Deploy(Box<deploy::DeployCommand>),
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

/// Python worker processes when neither `--workers` nor `EASYMLSERVE_WORKERS` says: each holds a copy
/// of the model, so the server's usual default (one per CPU core) could multiply a large model's memory.
const DEFAULT_PYTHON_WORKERS: usize = 2;

/// `easymlserve serve`: what to serve (one of the model forms) and how.
#[derive(Debug, clap::Args)]
// Not `required`: with none of the three given, `STORAGE_URI` may still name the model directory.
#[command(group(ArgGroup::new("what").args(["model", "python", "model_dir"])))]
struct ServeCommand {
    /// An ONNX file to serve with no code: the request and response schemas, the docs and the GUI
    /// come from its tensors.
    #[arg(value_name = "MODEL.onnx")]
    model: Option<PathBuf>,
    /// The model's name in the API and the inference protocol [default: the file stem].
    #[arg(long, env = "EASYMLSERVE_MODEL_NAME")]
    model_name: Option<String>,
    /// What runs an ONNX model: `tract` (built in), `ort` (ONNX Runtime), or `auto` (tract, and ONNX
    /// Runtime when tract lacks an operator and the library is found).
    #[arg(long, env = "EASYMLSERVE_ONNX_RUNTIME", default_value = "auto", value_parser = parse_runtime)]
    onnx_runtime: RuntimeChoice,
    /// ONNX Runtime's shared library [default: the one in the `--python-bin` interpreter's
    /// `onnxruntime` package].
    #[arg(long, env = "ORT_DYLIB_PATH", value_name = "libonnxruntime.so")]
    ort_library: Option<PathBuf>,
    /// A Python service written with the `easymlserve` SDK: `path/to/service.py`, or
    /// `path/to/service.py:ClassName` when the file defines several. It runs in `--workers` worker
    /// processes [default for Python: 2], each with its own copy of the model.
    #[arg(long, value_name = "FILE.py[:CLASS]")]
    python: Option<String>,
    /// A directory holding the model, as a cluster mounts it: exactly one `.onnx` file (served as
    /// `MODEL.onnx` is) or a `service.py` (served as `--python` is). `file:///path` is taken as a
    /// local path; remote URLs (`s3://`, `gs://`, `https://`, ...) are refused: nothing is
    /// downloaded. `STORAGE_URI` applies when no model is named at all.
    #[arg(long, env = "EASYMLSERVE_MODEL_DIR", value_name = "DIR")]
    model_dir: Option<String>,
    /// The Python interpreter of the workers; it needs pydantic (the SDK itself is built in). For an
    /// ONNX model, the interpreter whose `onnxruntime` package provides ONNX Runtime.
    #[arg(long, env = "EASYMLSERVE_PYTHON", default_value = "python3")]
    python_bin: PathBuf,
    /// Seconds a Python worker may take to import the service and run `load_model()`.
    #[arg(long, env = "EASYMLSERVE_START_TIMEOUT_SECS", default_value_t = 120.0)]
    start_timeout_secs: f64,
    /// Seconds a cancelled or timed-out request's worker has to stop before it is killed and restarted.
    #[arg(long, env = "EASYMLSERVE_CANCEL_GRACE_SECS", default_value_t = 2.0)]
    cancel_grace_secs: f64,
    #[command(flatten)]
    server: ServeArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let work: std::pin::Pin<Box<dyn std::future::Future<Output = Result<String>>>> = match cli.command {
        // The server runs its own runtime, until Ctrl-C or SIGTERM.
        Command::Serve(serve) => {
            return match serve_model(*serve) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            };
        }
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
        Command::Deploy(deploy) => {
            return match deploy.run() {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Call {
            background,
            url,
            data,
            timeout_secs,
        } => Box::pin(call::call_service(call::CallArgs {
            url,
            data,
            timeout_secs,
            background,
        })),
        Command::Openapi { url } => Box::pin(print_openapi(url)),
        Command::Init(init) => {
            return match init.run() {
                Ok(text) => {
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("error: {err:#}");
                    ExitCode::FAILURE
                }
            };
        }
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
        Err(err) if err.is::<call::Interrupted>() => ExitCode::from(call::INTERRUPTED_EXIT),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Serves the model `serve` names until Ctrl-C or SIGTERM.
fn serve_model(mut serve: ServeCommand) -> Result<()> {
    if serve.model.is_none() && serve.python.is_none() {
        locate_model(&mut serve)?;
    }
    if let Some(model) = serve.model.clone() {
        return serve_onnx(model, serve);
    }
    let ServeCommand {
        python,
        python_bin,
        start_timeout_secs,
        cancel_grace_secs,
        mut server,
        ..
    } = serve;
    let Some(python) = python else {
        anyhow::bail!("nothing to serve: give `MODEL.onnx`, `--python service.py[:ClassName]` or `--model-dir DIR`");
    };
    let start_timeout = Duration::try_from_secs_f64(start_timeout_secs)
        .context("`--start-timeout-secs` must be a positive number of seconds")?;
    let cancel_grace = Duration::try_from_secs_f64(cancel_grace_secs)
        .context("`--cancel-grace-secs` must be a positive number of seconds")?;
    let service = python_service(&python)?;
    // As many Python processes as workers: each request runs as a task on the runtime and leases one
    // process; more wait in the queue (first come, first served) up to its capacity, then 503.
    let workers = *server.workers.get_or_insert(DEFAULT_PYTHON_WORKERS);
    let backend = PythonBackend::new(PythonConfig {
        service,
        python_bin,
        workers,
        start_timeout,
        cancel_grace,
    });
    Server::from_backend(backend).with_generated_ui().run_with(server)?;
    Ok(())
}

/// Fills in the model from `--model-dir` (or its variable), else from `STORAGE_URI`.
fn locate_model(serve: &mut ServeCommand) -> Result<()> {
    let (location, source) = match serve.model_dir.take() {
        Some(dir) => (dir, "--model-dir"),
        None => match std::env::var(model_dir::ENV_STORAGE_URI) {
            Ok(uri) if !uri.trim().is_empty() => (uri, model_dir::ENV_STORAGE_URI),
            _ => anyhow::bail!(
                "nothing to serve: give `MODEL.onnx`, `--python service.py[:ClassName]` or `--model-dir DIR`"
            ),
        },
    };
    match model_dir::resolve(&location, source)? {
        model_dir::Found::Onnx(path) => serve.model = Some(path),
        model_dir::Found::Python(path) => {
            let path = path
                .to_str()
                .with_context(|| format!("`{source}`: the path `{}` is not valid UTF-8", path.display()))?;
            serve.python = Some(path.to_owned());
        }
    }
    Ok(())
}

/// Serves an ONNX file until Ctrl-C or SIGTERM.
fn serve_onnx(model: PathBuf, serve: ServeCommand) -> Result<()> {
    if !model.is_file() {
        anyhow::bail!("cannot find the ONNX model `{}`", model.display());
    }
    if !easymlserve_onnx::is_onnx_file(&model) {
        anyhow::bail!("`{}` is not an `.onnx` file", model.display());
    }
    let mut server = serve.server;
    let workers = *server
        .workers
        .get_or_insert_with(|| std::thread::available_parallelism().map_or(1, usize::from));
    let mut backend = OnnxBackend::new(OnnxConfig {
        name: serve.model_name,
        runtime: serve.onnx_runtime,
        ort_library: serve.ort_library,
        python: serve.python_bin,
        sessions: workers,
        ..OnnxConfig::new(model)
    });
    // Loading an ONNX file takes milliseconds and fails the same way every time: a model neither
    // runtime can run is refused here, with the reason, instead of a server that is never ready.
    easymlserve::server::Backend::load(&mut backend).map_err(|e| anyhow::anyhow!("{e}"))?;
    Server::from_backend(backend).with_generated_ui().run_with(server)?;
    Ok(())
}

fn parse_runtime(text: &str) -> Result<RuntimeChoice, String> {
    text.parse()
}

/// Checks that the service file of `file.py[:ClassName]` exists, and makes its path absolute (the
/// workers import it from there, whatever their working directory).
fn python_service(reference: &str) -> Result<String> {
    let (file, class) = match reference.rsplit_once(':') {
        Some((file, class)) if is_identifier(class) => (file, Some(class)),
        _ => (reference, None),
    };
    let path = std::fs::canonicalize(file).with_context(|| format!("cannot find the Python service `{file}`"))?;
    if !path.is_file() {
        anyhow::bail!("the Python service `{file}` is not a file");
    }
    let path = path.to_str().context("the Python service's path is not valid UTF-8")?;
    Ok(match class {
        Some(class) => format!("{path}:{class}"),
        None => path.to_owned(),
    })
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_') && chars.all(|c| c.is_alphanumeric() || c == '_')
}

async fn print_openapi(url: String) -> Result<String> {
    let document = Client::new(url)?.openapi().await?;
    Ok(serde_json::to_string_pretty(&document)?)
}
