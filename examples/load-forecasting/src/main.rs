//! The `load-forecasting` command: `cargo run --release -p load-forecasting` trains the three models if
//! `models/` has none (a minute or two), then serves the REST API and the web GUI on
//! http://127.0.0.1:8000/ui/. Subcommands: `train` (also on the real OPSD file with `--data`),
//! `generate` (rebuild the synthetic data and samples), `serve`, `openapi`. Server flags such as
//! `--port` and the `EASYMLSERVE_*` variables work as for every easymlserve binary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use easymlserve::prelude::*;
use easymlserve::server::ServeArgs;
use load_forecasting::data::read_series;
use load_forecasting::service::LoadForecaster;
use load_forecasting::train::{DEFAULT_SVR_STRIDE, TrainOptions, models_present, train};
use load_forecasting::ui::forecast_ui;

#[derive(Debug, Parser)]
#[command(
    about = "One-day-ahead electrical load forecasting (LR, SVR, RF), served with a web GUI.",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeCmd,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the models (the default); trains first if the models folder has none.
    Serve(Box<ServeCmd>),
    /// Train the three models, score them on the test years, and save them.
    Train(TrainCmd),
    /// Rebuild the synthetic series and the monthly sample files from the ingredients.
    Generate,
    /// Print the OpenAPI document and exit.
    Openapi,
}

#[derive(Debug, Clone, Args)]
struct Paths {
    /// Folder of the model files.
    #[arg(long, env = "LOAD_FORECASTING_MODELS", default_value_os_t = default_models_dir())]
    models: PathBuf,
    /// Training data: the OPSD 60-minute single-index CSV or a `time,energy` CSV.
    #[arg(long, default_value_os_t = default_data())]
    data: PathBuf,
}

#[derive(Debug, Clone, Args)]
struct ServeCmd {
    #[command(flatten)]
    paths: Paths,
    #[command(flatten)]
    server: ServeArgs,
}

#[derive(Debug, Clone, Args)]
struct TrainCmd {
    #[command(flatten)]
    paths: Paths,
    /// Fit the SVR on every N-th hour of the training years (1 for all: slow); N must not be divisible
    /// by 2, 3 or 7, so the sample covers every hour of the day and weekday.
    #[arg(long, default_value_t = DEFAULT_SVR_STRIDE)]
    svr_stride: usize,
    /// Trees in the random forest.
    #[arg(long, default_value_t = 100)]
    trees: usize,
    /// First year of the test period; earlier hours train.
    #[arg(long, default_value_t = 2019)]
    test_from: i32,
}

fn default_models_dir() -> PathBuf {
    load_forecasting::example_dir().join("models")
}

fn default_data() -> PathBuf {
    load_forecasting::example_dir().join("data/german-load-synthetic-2015-2020.csv")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(cmd)) => serve(*cmd),
        Some(Command::Train(cmd)) => run_training(&cmd),
        Some(Command::Generate) => generate(),
        Some(Command::Openapi) => openapi(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_training(cmd: &TrainCmd) -> anyhow::Result<()> {
    let series = read_series(&cmd.paths.data)?;
    println!(
        "Training on {} ({} hours); hours before {} train, the rest test.",
        cmd.paths.data.display(),
        series.load.len(),
        cmd.test_from
    );
    if let Some(report) = series.missing_report() {
        println!("note: {report}");
    }
    let mut options = TrainOptions::new(&cmd.paths.models);
    options.svr_stride = cmd.svr_stride;
    options.fit.trees = cmd.trees;
    options.test_from_year = cmd.test_from;
    let report = train(&series, &options)?;
    println!(
        "\nTrained in {:.0} s on {} rows; scores on {} test rows:",
        report.total_seconds, report.train_rows, report.test_rows
    );
    println!("  model  rows    fit [s]  MAE [MW]  MAPE [%]  file");
    for m in &report.models {
        println!(
            "  {:<5}  {:>6}  {:>7.1}  {:>8.0}  {:>8.2}  {:.1} MB",
            m.model,
            m.train_rows,
            m.fit_seconds,
            m.mae_mw,
            m.mape_percent,
            m.file_bytes as f64 / 1e6
        );
    }
    println!("Models and report.json saved in {}", options.models_dir.display());
    Ok(())
}

fn generate() -> anyhow::Result<()> {
    for path in load_forecasting::generate::generate(&load_forecasting::example_dir())? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn openapi() -> anyhow::Result<()> {
    Server::new(LoadForecaster::new(default_models_dir())).print_openapi()?;
    Ok(())
}

fn sample_file() -> PathBuf {
    load_forecasting::example_dir().join("samples/2019-01.csv")
}

fn serve(cmd: ServeCmd) -> anyhow::Result<()> {
    let models = &cmd.paths.models;
    if !models_present(models) {
        println!(
            "No models in {} yet: training them first (a minute or two; once only).",
            models.display()
        );
        run_training(&TrainCmd {
            paths: cmd.paths.clone(),
            svr_stride: DEFAULT_SVR_STRIDE,
            trees: 100,
            test_from: 2019,
        })?;
        println!();
    }
    let sample = sample_file();
    Server::new(LoadForecaster::new(models))
        .with_ui(forecast_ui())
        .on_listening(move |local| print_welcome(local, &sample))
        .run_with(cmd.server)?;
    Ok(())
}

fn print_welcome(addr: std::net::SocketAddr, sample: &Path) {
    println!("Load forecasting is starting (the models load in a second or two).");
    println!("  Open  http://{addr}/ui/  in a browser,");
    println!("  upload {} and press Submit.", sample.display());
    println!("  REST: POST http://{addr}/process; docs at http://{addr}/docs. Stop with Ctrl-C.");
}
