//! The `cell-segmentation` command: with no arguments it serves the committed U-Net over REST with the
//! web GUI on http://127.0.0.1:8000/ui/. Subcommands: `train` (about ten minutes on two cores),
//! `evaluate` (U-Net against the baseline on the held-out rows), `tune` (post-processing thresholds on
//! the training rows), `export-onnx` (the U-Net as an ONNX file for `easymlserve serve`), `serve`,
//! `openapi`. Server flags such as
//! `--port` and the `EASYMLSERVE_*` variables work as for every easymlserve binary.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cell_segmentation::envelope::Limits;
use cell_segmentation::evaluate::evaluate;
use cell_segmentation::metrics::Scores;
use cell_segmentation::service::CellSegmenter;
use cell_segmentation::train::{TrainOptions, train};
use cell_segmentation::ui::cell_ui;
use clap::{Args, Parser, Subcommand};
use easymlserve::prelude::*;
use easymlserve::server::ServeArgs;

#[derive(Debug, Parser)]
#[command(
    about = "Cell nucleus segmentation with a U-Net, served over REST with a web GUI.",
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
    /// Serve the model with the web GUI (the default).
    Serve(Box<ServeCmd>),
    /// Train the U-Net on the training rows of the shipped image and save its weights.
    Train(TrainCmd),
    /// Score the U-Net and the classical baseline on the held-out rows.
    Evaluate(WeightsArg),
    /// Score post-processing thresholds on the training rows (to choose them without the held-out rows).
    Tune(WeightsArg),
    /// Write the U-Net as an ONNX file, for `easymlserve serve` with no code.
    ExportOnnx(ExportCmd),
    /// Print the OpenAPI document and exit.
    Openapi,
}

#[derive(Debug, Clone, Args)]
struct WeightsArg {
    /// The U-Net weights (safetensors).
    #[arg(long, env = "CELL_SEGMENTATION_WEIGHTS", default_value_os_t = cell_segmentation::default_weights())]
    weights: PathBuf,
}

#[derive(Debug, Clone, Args)]
struct ServeCmd {
    #[command(flatten)]
    weights: WeightsArg,
    /// Largest image accepted, in pixels (height x width); larger shapes get 422 before decoding.
    #[arg(long, env = "CELL_SEGMENTATION_MAX_PIXELS", default_value_t = Limits::default().max_pixels)]
    max_pixels: u64,
    /// Largest height or width accepted, in pixels.
    #[arg(long, env = "CELL_SEGMENTATION_MAX_SIDE", default_value_t = Limits::default().max_side)]
    max_side: u64,
    #[command(flatten)]
    server: ServeArgs,
}

#[derive(Debug, Clone, Args)]
struct ExportCmd {
    #[command(flatten)]
    weights: WeightsArg,
    /// The ONNX file to write.
    #[arg(long, default_value_os_t = cell_segmentation::onnx::default_output())]
    output: PathBuf,
}

#[derive(Debug, Clone, Args)]
struct TrainCmd {
    #[command(flatten)]
    weights: WeightsArg,
    /// Optimisation steps.
    #[arg(long, default_value_t = TrainOptions::new("").steps)]
    steps: usize,
    /// Crops per step.
    #[arg(long, default_value_t = TrainOptions::new("").batch)]
    batch: usize,
    /// Side of the square training crops (a multiple of 8).
    #[arg(long, default_value_t = TrainOptions::new("").crop)]
    crop: usize,
    /// Stop after this many minutes even if steps remain (the learning rate decays over them).
    #[arg(long, default_value_t = 10.0)]
    minutes: f64,
    /// Seed of crops and augmentations.
    #[arg(long, default_value_t = TrainOptions::new("").seed)]
    seed: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(cli.serve),
        Some(Command::Serve(cmd)) => serve(*cmd),
        Some(Command::Train(cmd)) => run_training(&cmd),
        Some(Command::Evaluate(cmd)) => run_evaluation(&cmd),
        Some(Command::Tune(cmd)) => run_tuning(&cmd),
        Some(Command::ExportOnnx(cmd)) => run_export(&cmd),
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
    let mut options = TrainOptions::new(&cmd.weights.weights);
    options.steps = cmd.steps;
    options.batch = cmd.batch;
    options.crop = cmd.crop;
    options.seed = cmd.seed;
    options.budget = Duration::try_from_secs_f64(cmd.minutes * 60.0)
        .map_err(|_| anyhow::anyhow!("`minutes` must be a positive number, got {}", cmd.minutes))?;
    let report = train(&options)?;
    println!(
        "Trained {} steps in {:.0} s; final loss {:.4}; {} parameters, {:.2} MB in {}",
        report.steps,
        report.seconds,
        report.final_loss,
        report.parameters,
        report.file_bytes as f64 / 1e6,
        options.weights.display()
    );
    Ok(())
}

fn run_evaluation(cmd: &WeightsArg) -> anyhow::Result<()> {
    let evaluation = evaluate(&cmd.weights)?;
    println!("Held out: {}", evaluation.held_out);
    println!("  method    cells  found  matched  precision  recall    F1   mean IoU");
    let row = |name: &str, s: &Scores| {
        println!(
            "  {name:<8}  {:>5}  {:>5}  {:>7}  {:>9.3}  {:>6.3}  {:.3}  {:>8.3}",
            s.true_cells, s.predicted_cells, s.matched, s.precision, s.recall, s.f1, s.mean_matched_iou
        );
    };
    row("U-Net", &evaluation.unet);
    row("baseline", &evaluation.baseline);
    println!(
        "Whole 512 x 512 image: {:.0} ms for the U-Net and post-processing.",
        evaluation.full_image_ms
    );
    Ok(())
}

fn run_tuning(cmd: &WeightsArg) -> anyhow::Result<()> {
    println!("Training rows 0..{}:", cell_segmentation::data::HELD_OUT_FROM_ROW);
    println!("  split  foreground  cells  found  matched    F1   mean IoU");
    for (p, s) in cell_segmentation::evaluate::tune(&cmd.weights)? {
        println!(
            "  {:<5}  {:.1}         {:>5}  {:>5}  {:>7}  {:.3}  {:>8.3}",
            p.split_radius.map_or("no".to_owned(), |r| r.to_string()),
            p.foreground,
            s.true_cells,
            s.predicted_cells,
            s.matched,
            s.f1,
            s.mean_matched_iou
        );
    }
    Ok(())
}

fn run_export(cmd: &ExportCmd) -> anyhow::Result<()> {
    let report = cell_segmentation::onnx::export(&cmd.weights.weights, &cmd.output)?;
    println!(
        "Wrote {} ({} bytes, {} nodes, {} weights, opset {}) in {:.2} s; serve it with `easymlserve serve {}`",
        report.output.display(),
        report.bytes,
        report.nodes,
        report.parameters,
        cell_segmentation::onnx::OPSET,
        report.seconds,
        report.output.display()
    );
    Ok(())
}

fn openapi() -> anyhow::Result<()> {
    Server::new(CellSegmenter::new(cell_segmentation::default_weights())).print_openapi()?;
    Ok(())
}

fn serve(cmd: ServeCmd) -> anyhow::Result<()> {
    let limits = Limits {
        max_pixels: cmd.max_pixels,
        max_side: cmd.max_side,
        ..Limits::default()
    };
    let service = CellSegmenter::new(&cmd.weights.weights).with_limits(limits);
    Server::new(service)
        .with_ui(cell_ui())
        .on_listening(|local| {
            println!(
                "Cell segmentation: open http://{local}/ui/ and upload data/img2d.tif; docs at http://{local}/docs."
            );
        })
        .run_with(cmd.server)?;
    Ok(())
}
