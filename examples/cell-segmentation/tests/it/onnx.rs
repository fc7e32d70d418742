//! `cell-segmentation export-onnx` checked against the network it exports: tract runs the written file
//! on the whole normalised shipped image and its logits and pixel classes are compared with candle's
//! `UNet::forward`; the no-code ONNX server (`easymlserve serve`'s backend) answers with the same
//! logits over HTTP; the committed `models/unet.onnx` is the export of the committed weights; and a
//! missing weights file is refused by name.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use candle_core::{Device, Tensor};
use cell_segmentation::data::{normalize, read_gray};
use cell_segmentation::unet::{Mode, UNet};
use easymlserve::prelude::*;
use easymlserve_onnx::{OnnxBackend, OnnxConfig, RuntimeChoice};
use serde_json::{Value, json};
use tract_onnx::prelude::{Datum, Framework, InferenceFact, InferenceModelExt, IntoRunnable, TValue, TVec, tvec};

const BIN: &str = env!("CARGO_BIN_EXE_cell-segmentation");

/// A fresh folder for this test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cell-segmentation-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `cell-segmentation export-onnx --output <output>` with the committed weights; returns stdout.
fn export_with_the_binary(output: &Path) -> String {
    let run = Command::new(BIN)
        .args(["export-onnx", "--output"])
        .arg(output)
        .env_remove("CELL_SEGMENTATION_WEIGHTS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{stdout}{}", String::from_utf8_lossy(&run.stderr));
    stdout
}

/// The shipped image normalised whole, as the service does before predicting: `(pixels, width, height)`.
fn normalised_image() -> (Vec<f32>, usize, usize) {
    let image = read_gray(&cell_segmentation::data::image_path()).unwrap();
    (normalize(&image.data), image.width, image.height)
}

/// candle's logits `[1, 3, h, w]`, flattened, of one normalised image.
fn candle_logits(pixels: &[f32], width: usize, height: usize) -> Vec<f32> {
    let net = UNet::load(&cell_segmentation::default_weights()).unwrap();
    let input = Tensor::from_vec(pixels.to_vec(), (1, 1, height, width), &Device::Cpu).unwrap();
    net.forward(&input, Mode::Inference)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}

/// `(largest absolute difference, pixels whose highest-scoring class differs)` of two `[1, 3, h, w]`
/// logit arrays of `pixels` pixels.
fn compare(a: &[f32], b: &[f32], pixels: usize) -> (f32, usize) {
    assert_eq!((a.len(), b.len()), (3 * pixels, 3 * pixels));
    let max_diff = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    let class = |l: &[f32], p: usize| (0..3).max_by(|&i, &j| l[i * pixels + p].total_cmp(&l[j * pixels + p]));
    let differing = (0..pixels).filter(|&p| class(a, p) != class(b, p)).count();
    (max_diff, differing)
}

#[test]
fn tract_runs_the_exported_file_as_candle_runs_the_network() {
    let dir = scratch("onnx-export");
    let path = dir.join("unet.onnx");
    let started = Instant::now();
    let stdout = export_with_the_binary(&path);
    let export_seconds = started.elapsed().as_secs_f64();
    assert!(stdout.contains("41 nodes, 100539 weights, opset 13"), "{stdout}");
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() < 1_000_000, "{} bytes", bytes.len());

    let (pixels, width, height) = normalised_image();
    let model = tract_onnx::onnx()
        .model_for_path(&path)
        .unwrap()
        .with_input_fact(0, InferenceFact::dt_shape(f32::datum_type(), [1, 1, height, width]))
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    let input = tract_onnx::prelude::Tensor::from_shape(&[1, 1, height, width], &pixels).unwrap();
    let started = Instant::now();
    let outputs: TVec<TValue> = model.run(tvec![input.into()]).unwrap();
    let tract_ms = started.elapsed().as_secs_f64() * 1e3;
    assert_eq!(outputs[0].shape(), [1, 3, height, width]);
    let tract: Vec<f32> = outputs[0]
        .to_plain_array_view::<f32>()
        .unwrap()
        .iter()
        .copied()
        .collect();

    let started = Instant::now();
    let candle = candle_logits(&pixels, width, height);
    let candle_ms = started.elapsed().as_secs_f64() * 1e3;
    let (max_diff, differing) = compare(&tract, &candle, width * height);
    println!(
        "ONNX export: {} bytes, {export_seconds:.2} s with the binary ({}); {width} x {height} image: \
         {} pixels compared, {differing} with a different class, max |logit difference| {max_diff:.3e} \
         (tract {tract_ms:.0} ms, candle {candle_ms:.0} ms)",
        bytes.len(),
        stdout.trim(),
        width * height
    );
    assert!(
        differing * 1000 <= width * height,
        "{differing} of {} pixels change class",
        width * height
    );
    assert!(max_diff < 1e-3, "the logits differ by up to {max_diff}");

    // The committed file is this export of the committed weights, byte for byte.
    let committed = std::fs::read(cell_segmentation::onnx::default_output()).unwrap();
    assert!(
        committed == bytes,
        "models/unet.onnx is not the export of models/unet.safetensors: run `cell-segmentation export-onnx`"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The nested JSON of a `[1, 1, h, w]` image.
fn image_json(pixels: &[f32], width: usize) -> Value {
    let rows: Vec<Value> = pixels.chunks(width).map(|row| json!(row)).collect();
    json!([[rows]])
}

/// Flattens nested JSON arrays of numbers.
fn flatten(value: &Value, into: &mut Vec<f32>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| flatten(v, into)),
        other => into.push(other.as_f64().unwrap() as f32),
    }
}

#[tokio::test]
async fn the_no_code_onnx_server_segments_like_candle() {
    let backend = OnnxBackend::new(OnnxConfig {
        runtime: RuntimeChoice::Tract,
        ..OnnxConfig::new(cell_segmentation::onnx::default_output())
    });
    let url = easymlserve_testkit::serve(Server::from_backend(backend)).await;
    let spec: Value = reqwest::get(format!("{url}/api/spec"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let description = spec["description"].as_str().unwrap();
    assert!(
        description.contains("1 cell interior, 2 cell boundary"),
        "{description}"
    );
    assert!(description.contains("99.8th percentiles"), "{description}");

    // The whole shipped image, normalised, served with the symbolic N, H and W of the file.
    let (pixels, width, height) = normalised_image();
    let (x0, y0, w, h) = (0, 0, width, height);
    let crop: Vec<f32> = (y0..y0 + h)
        .flat_map(|y| pixels[y * width + x0..y * width + x0 + w].iter().copied())
        .collect();
    let answer: Value = reqwest::Client::new()
        .post(format!("{url}/process"))
        .json(&json!({"image": image_json(&crop, w)}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let logits = &answer["logits"];
    assert_eq!(
        (logits.as_array().unwrap().len(), logits[0].as_array().unwrap().len()),
        (1, 3),
        "{answer:.200}"
    );
    let mut served = Vec::new();
    flatten(logits, &mut served);
    let (max_diff, differing) = compare(&served, &candle_logits(&crop, w, h), w * h);
    println!(
        "easymlserve's ONNX backend over HTTP, the whole {w} x {h} image: {} pixels, {differing} with a different class, \
         max |logit difference| {max_diff:.3e}",
        w * h
    );
    assert!(differing * 1000 <= w * h && max_diff < 1e-3);

    // A side that is not a multiple of 8 cannot be pooled and upsampled back: the request fails.
    let odd = &crop[..w * 60];
    let refused = reqwest::Client::new()
        .post(format!("{url}/process"))
        .json(&json!({"image": image_json(odd, w)}))
        .send()
        .await
        .unwrap();
    let status = refused.status();
    let text = refused.text().await.unwrap();
    println!("a {w} x 60 image: {status} {text:.300}");
    assert!(!status.is_success(), "{status} {text}");
}

#[test]
fn export_refuses_a_missing_weights_file() {
    let dir = scratch("onnx-missing");
    let output = dir.join("unet.onnx");
    let run = Command::new(BIN)
        .args(["export-onnx", "--weights", "no-such-weights.safetensors", "--output"])
        .arg(&output)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("the weights file no-such-weights.safetensors does not exist"),
        "{stderr}"
    );
    assert!(!output.exists());
    std::fs::remove_dir_all(dir).unwrap();
}
