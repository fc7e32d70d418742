//! `cell-segmentation export-onnx`: the U-Net as an ONNX file (opset 13, standard operators only), so
//! `easymlserve serve models/unet.onnx` serves the network with no code, with tract or ONNX Runtime. The
//! graph repeats `UNet::forward` operator for operator with the same weights, and the file's metadata
//! says what the classes are and how to normalise an image; the watershed that turns the pixel classes
//! into cells stays in this crate's service.

mod graph;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, ensure};
use candle_core::Device;
use prost::Message;
use tract_onnx::pb::{ModelProto, OperatorSetIdProto, StringStringEntryProto};

use crate::unet::{CHANNELS, CLASSES, MULTIPLE, UNet};
use graph::{Dim, GraphBuilder};

/// The ONNX operator set the file uses.
pub const OPSET: i64 = 13;
/// The ONNX IR version that goes with opset 13.
const IR_VERSION: i64 = 7;
/// The graph's input: `[N, 1, H, W]` float32.
pub const INPUT: &str = "image";
/// The graph's output: `[N, 3, H, W]` float32 class scores.
pub const OUTPUT: &str = "logits";
/// The class names, in the order of the output's channels (the `classes` metadata, as JSON).
pub const CLASS_NAMES: [&str; CLASSES] = ["background", "interior", "boundary"];

/// The committed ONNX file: `models/unet.onnx`.
pub fn default_output() -> PathBuf {
    crate::example_dir().join("models/unet.onnx")
}

/// The `description` metadata: what goes in, what comes out.
pub fn description() -> String {
    format!(
        "Cell nucleus segmentation U-Net from the easymlserve cell-segmentation example (trained with candle \
         on a fluorescence image of nuclei). Input `image`: float32 [N, 1, H, W], one grey channel; H and W \
         must be multiples of {MULTIPLE} (three 2 x 2 poolings): pad other sizes (the example mirrors the \
         edges) and crop the output. Normalise each image on its own first: with lo and hi the 1st and \
         99.8th percentiles of its raw intensities (nearest rank: the smallest intensity with at least \
         ceil(q x pixels) pixels at or below it; hi at least lo + 1), send (value - lo) / (hi - lo), not \
         clipped, so 8- and 16-bit images look alike. Output `logits`: float32 [N, 3, H, W], per-pixel \
         class scores before softmax (softmax over axis 1 gives probabilities): class 0 background, 1 cell \
         interior, 2 cell boundary (the outermost pixel ring of each nucleus, which separates touching \
         ones). Instances are not in the model: the example's service seeds a watershed with the regions \
         of interior probability > 0.5."
    )
}

/// What `export` wrote.
#[derive(Debug, Clone)]
pub struct ExportReport {
    /// Where.
    pub output: PathBuf,
    /// File size in bytes.
    pub bytes: usize,
    /// Graph nodes (operators).
    pub nodes: usize,
    /// The network's weights (float32 numbers) in the initializers, the upsampling scales left out.
    pub parameters: usize,
    /// Time to read the weights, build, encode and write the file.
    pub seconds: f64,
}

/// Writes the U-Net whose weights are the safetensors file `weights` as the ONNX file `output`
/// (creating its folder), through a temporary file so a reader never sees half a model.
pub fn export(weights: &Path, output: &Path) -> anyhow::Result<ExportReport> {
    let started = Instant::now();
    let model = model_proto(weights)?;
    let bytes = model.encode_to_vec();
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    let partial = output.with_extension("onnx.partial");
    std::fs::write(&partial, &bytes).with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, output)
        .with_context(|| format!("cannot move {} to {}", partial.display(), output.display()))?;
    let graph = model.graph.as_ref();
    Ok(ExportReport {
        output: output.to_owned(),
        bytes: bytes.len(),
        nodes: graph.map_or(0, |g| g.node.len()),
        parameters: graph.map_or(0, |g| {
            g.initializer
                .iter()
                .filter(|t| t.name != graph::UPSAMPLE_SCALES)
                .map(|t| t.raw_data.len() / 4)
                .sum()
        }),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The ONNX model of the U-Net whose weights are the safetensors file `weights`.
pub fn model_proto(weights: &Path) -> anyhow::Result<ModelProto> {
    ensure!(
        weights.is_file(),
        "the weights file {} does not exist (train it with `cell-segmentation train` or name one with \
         `--weights`)",
        weights.display()
    );
    // Loading the network first checks the file the way the service reads it.
    UNet::load(weights)?;
    let tensors = candle_core::safetensors::load(weights, &Device::Cpu)
        .with_context(|| format!("cannot read the weights file {}", weights.display()))?;
    let graph = unet_graph(GraphBuilder::new(tensors))
        .with_context(|| format!("cannot export the weights in {}", weights.display()))?;
    let metadata = [
        ("description", description()),
        (
            "classes",
            serde_json::to_string(&CLASS_NAMES).context("cannot write the class names")?,
        ),
    ];
    Ok(ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "cell-segmentation".to_owned(),
        producer_version: env!("CARGO_PKG_VERSION").to_owned(),
        model_version: 1,
        doc_string: "U-Net for nucleus segmentation: three pixel classes (background, interior, boundary).".to_owned(),
        graph: Some(graph),
        metadata_props: metadata
            .into_iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.to_owned(),
                value,
            })
            .collect(),
        ..ModelProto::default()
    })
}

/// `UNet::forward` in inference mode as ONNX nodes, with the names `UNet::new` gives the weights.
fn unet_graph(mut g: GraphBuilder) -> anyhow::Result<tract_onnx::pb::GraphProto> {
    let [c0, c1, c2, c3] = CHANNELS;
    let block = |g: &mut GraphBuilder, prefix: &str, input: &str, from: usize, to: usize| -> anyhow::Result<String> {
        let first = g.conv(&format!("{prefix}.conv1"), input, from, to, 3, None)?;
        let first = g.relu(&format!("{prefix}.relu1"), &first);
        let second = g.conv(&format!("{prefix}.conv2"), &first, to, to, 3, None)?;
        Ok(g.relu(&format!("{prefix}.relu2"), &second))
    };
    let mut x = INPUT.to_owned();
    let mut skips = Vec::new();
    for (level, (from, to)) in [(1, c0), (c0, c1), (c1, c2)].into_iter().enumerate() {
        let features = block(&mut g, &format!("down{level}"), &x, from, to)?;
        x = g.max_pool(&format!("down{level}.pool"), &features);
        skips.push(features);
    }
    x = block(&mut g, "middle", &x, c2, c3)?;
    for (level, (from, to)) in [(2, (c3, c2)), (1, (c2, c1)), (0, (c1, c0))] {
        let projected = g.conv(&format!("project{level}"), &x, from, to, 1, None)?;
        let coarse = g.upsample2x(&format!("up{level}.upsample"), &projected);
        let sum = g.add(&format!("up{level}.skip"), &coarse, &skips[level]);
        x = block(&mut g, &format!("up{level}"), &sum, to, to)?;
    }
    g.conv("head", &x, c0, CLASSES, 1, Some(OUTPUT))?;
    let image = [Dim::Named("N"), Dim::Fixed(1), Dim::Named("H"), Dim::Named("W")];
    let logits = [
        Dim::Named("N"),
        Dim::Fixed(CLASSES as i64),
        Dim::Named("H"),
        Dim::Named("W"),
    ];
    g.finish("unet", (INPUT, &image), (OUTPUT, &logits))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

    use super::*;

    #[test]
    fn a_missing_weights_file_is_refused_with_its_name() {
        let missing = std::env::temp_dir().join("cell-segmentation-no-such-weights.safetensors");
        let output = std::env::temp_dir().join(format!("cell-segmentation-unused-{}.onnx", std::process::id()));
        let err = export(&missing, &output).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains("does not exist"), "{text}");
        assert!(text.contains(&missing.display().to_string()), "{text}");
        assert!(!output.exists());
    }

    #[test]
    fn the_committed_weights_give_the_whole_network() {
        let model = model_proto(&crate::default_weights()).unwrap();
        let graph = model.graph.unwrap();
        let count = |op: &str| graph.node.iter().filter(|n| n.op_type == op).count();
        // 7 blocks of two 3 x 3 convolutions, 3 projections and the head.
        assert_eq!(count("Conv"), 18);
        assert_eq!(count("Relu"), 14);
        assert_eq!((count("MaxPool"), count("Resize"), count("Add")), (3, 3, 3));
        let parameters: usize = graph.initializer.iter().map(|t| t.raw_data.len() / 4).sum();
        // The U-Net's 100,539 weights and the four upsampling scales.
        assert_eq!(parameters, 100_539 + 4);
        let keys: Vec<&str> = model.metadata_props.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["description", "classes"]);
        assert_eq!(model.metadata_props[1].value, r#"["background","interior","boundary"]"#);
    }
}
