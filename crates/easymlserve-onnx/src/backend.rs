//! `OnnxBackend`: an ONNX file as a backend of the execution engine. Loading reads the file's tensors
//! into the spec and picks the runtime (tract, or ONNX Runtime where tract lacks an operator); a request
//! is one nested array per input, checked against the input's type and fixed dimensions, and the answer
//! one nested array per output. Batches are stacked along the first dimension.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use easymlserve_core::ServiceSpec;
use easymlserve_server::oip::Tensor;
use easymlserve_server::{Backend, Item, LoadError, ModelError};
use serde_json::{Map, Value};

use crate::locate::find_library;
use crate::model::{Dimension, ModelFacts, TensorFact};
use crate::ort_rt::OrtRuntime;
use crate::tract_rt::TractRuntime;
use crate::{OnnxError, Runtime, RuntimeChoice, batch, spec};

/// How to serve an ONNX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnnxConfig {
    /// The `.onnx` file.
    pub model: PathBuf,
    /// The model's name in the API and the inference protocol (default: the file stem).
    pub name: Option<String>,
    /// Which runtime runs it.
    pub runtime: RuntimeChoice,
    /// ONNX Runtime's library; default: `ORT_DYLIB_PATH`, then the `onnxruntime` package of `python`.
    pub ort_library: Option<PathBuf>,
    /// The Python interpreter asked where its `onnxruntime` package is.
    pub python: PathBuf,
    /// ONNX Runtime sessions, one per engine worker.
    pub sessions: usize,
}

impl OnnxConfig {
    /// Serve `model` with the defaults: tract, falling back to ONNX Runtime when present.
    pub fn new(model: impl Into<PathBuf>) -> Self {
        Self {
            model: model.into(),
            name: None,
            runtime: RuntimeChoice::Auto,
            ort_library: std::env::var_os(crate::ENV_ORT_DYLIB_PATH).map(PathBuf::from),
            python: PathBuf::from("python3"),
            sessions: 1,
        }
    }
}

/// Serves one ONNX file.
pub struct OnnxBackend {
    config: OnnxConfig,
    loaded: Option<Loaded>,
}

struct Loaded {
    spec: ServiceSpec,
    runtime: Box<dyn Runtime>,
    inputs: Vec<TensorFact>,
    outputs: Vec<TensorFact>,
    batchable: bool,
}

impl std::fmt::Debug for OnnxBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxBackend")
            .field("config", &self.config)
            .field("runtime", &self.loaded.as_ref().map(|l| l.runtime.name()))
            .finish()
    }
}

impl OnnxBackend {
    /// A backend for `config`; nothing is read until the engine loads it.
    pub fn new(config: OnnxConfig) -> Self {
        Self { config, loaded: None }
    }

    /// The name the model is served under: the configured one, else the file stem.
    pub fn model_name(&self) -> String {
        self.config.name.clone().unwrap_or_else(|| {
            self.config
                .model
                .file_stem()
                .map_or_else(|| "model".to_owned(), |s| s.to_string_lossy().into_owned())
        })
    }

    fn open_runtime(&self, facts: &ModelFacts) -> Result<Box<dyn Runtime>, OnnxError> {
        let path = &self.config.model;
        let ort = || -> Result<Box<dyn Runtime>, OnnxError> {
            let library = find_library(self.config.ort_library.as_deref(), &self.config.python)
                .map_err(OnnxError::NoOnnxRuntime)?;
            tracing::info!(library = %library.display(), "loading ONNX Runtime");
            Ok(Box::new(OrtRuntime::load(&library, path, self.config.sessions)?))
        };
        match self.config.runtime {
            RuntimeChoice::Tract => Ok(Box::new(TractRuntime::load(path, facts)?)),
            RuntimeChoice::Ort => ort(),
            RuntimeChoice::Auto => match TractRuntime::load(path, facts) {
                Ok(tract) => Ok(Box::new(tract)),
                Err(tract_err) => {
                    tracing::info!(reason = %tract_err, "tract cannot run this model; trying ONNX Runtime");
                    ort().map_err(|ort_err| {
                        OnnxError::Unsupported(format!(
                            "neither runtime can serve the model: {tract_err}; and {ort_err}"
                        ))
                    })
                }
            },
        }
    }
}

impl Backend for OnnxBackend {
    /// Loads the model, once: a backend loaded before it is handed to the server (so a command can
    /// refuse a model at start) gives the same spec again.
    fn load(&mut self) -> Result<ServiceSpec, LoadError> {
        if let Some(loaded) = &self.loaded {
            return Ok(loaded.spec.clone());
        }
        let path = self.config.model.clone();
        let facts = ModelFacts::read(&path).map_err(|e| LoadError::new(e.to_string()))?;
        let runtime = self.open_runtime(&facts).map_err(|e| LoadError::new(e.to_string()))?;
        let platform = match runtime.name() {
            "onnxruntime" => "onnxruntime_onnx",
            _ => "tract_onnx",
        };
        tracing::info!(
            model = %path.display(),
            runtime = runtime.name(),
            inputs = %describe(&facts.inputs),
            outputs = %describe(&facts.outputs),
            "serving the ONNX model with {}",
            runtime.name()
        );
        let spec = spec::service_spec(&self.model_name(), &facts, platform, spec::example_beside(&path));
        self.loaded = Some(Loaded {
            spec: spec.clone(),
            runtime,
            batchable: facts.batchable(),
            inputs: facts.inputs,
            outputs: facts.outputs,
        });
        Ok(spec)
    }

    fn run(&self, item: Item) -> Result<Bytes, ModelError> {
        let loaded = self.loaded()?;
        let inputs = loaded.inputs_of(&item.request).map_err(to_model_error)?;
        let outputs = loaded.runtime.run(inputs).map_err(to_model_error)?;
        loaded.answer(outputs)
    }

    fn run_batch(&self, items: Vec<Item>) -> Vec<Result<Bytes, ModelError>> {
        let Ok(loaded) = self.loaded() else {
            return items
                .iter()
                .map(|_| Err(ModelError::Failed("the model is not loaded".to_owned())))
                .collect();
        };
        if !loaded.batchable || items.len() < 2 {
            return items.into_iter().map(|item| self.run(item)).collect();
        }
        let mut answers: Vec<Option<Result<Bytes, ModelError>>> = Vec::with_capacity(items.len());
        let mut batch: Vec<(usize, usize, Vec<Tensor>)> = Vec::new();
        for (at, item) in items.iter().enumerate() {
            match loaded.inputs_of(&item.request) {
                Ok(inputs) => {
                    let rows = inputs.first().and_then(|t| t.shape.first().copied()).unwrap_or(0);
                    if inputs.iter().all(|t| t.shape.first() == Some(&rows)) {
                        batch.push((at, rows, inputs));
                        answers.push(None);
                        continue;
                    }
                    answers.push(Some(Err(ModelError::InvalidInput {
                        field: None,
                        message: "every input must have the same first (batch) dimension".to_owned(),
                    })));
                }
                Err(err) => answers.push(Some(Err(to_model_error(err)))),
            }
        }
        let rows: Vec<usize> = batch.iter().map(|(_, rows, _)| *rows).collect();
        let positions: Vec<usize> = batch.iter().map(|(at, _, _)| *at).collect();
        let mut columns: Vec<Vec<Tensor>> = (0..loaded.inputs.len())
            .map(|_| Vec::with_capacity(batch.len()))
            .collect();
        for (_, _, inputs) in batch {
            for (column, tensor) in columns.iter_mut().zip(inputs) {
                column.push(tensor);
            }
        }
        let results = columns
            .into_iter()
            .map(batch::stack)
            .collect::<Option<Vec<Tensor>>>()
            .ok_or_else(|| OnnxError::Run("the batch's inputs do not stack".to_owned()))
            .and_then(|stacked| loaded.runtime.run(stacked))
            .and_then(|outputs| {
                let pieces: Option<Vec<Vec<Tensor>>> = outputs.iter().map(|o| batch::split(o, &rows)).collect();
                pieces.ok_or_else(|| OnnxError::Run("an output's first dimension is not the batch's".to_owned()))
            });
        match results {
            Ok(per_output) => {
                let mut per_output: Vec<std::vec::IntoIter<Tensor>> =
                    per_output.into_iter().map(Vec::into_iter).collect();
                for at in positions {
                    let outputs: Vec<Tensor> = per_output.iter_mut().filter_map(Iterator::next).collect();
                    answers[at] = Some(loaded.answer(outputs));
                }
            }
            // The batch's answers stay `None`: each is run on its own below.
            Err(err) => tracing::warn!(%err, "a batch failed; answering its requests one by one"),
        }
        items
            .into_iter()
            .zip(answers)
            .map(|(item, answer)| answer.unwrap_or_else(|| self.run(item)))
            .collect()
    }
}

impl OnnxBackend {
    fn loaded(&self) -> Result<&Loaded, ModelError> {
        self.loaded
            .as_ref()
            .ok_or_else(|| ModelError::Failed("the model is not loaded".to_owned()))
    }
}

impl Loaded {
    /// The input tensors of a validated request, each checked against its declared type and fixed
    /// dimensions.
    fn inputs_of(&self, request: &Value) -> Result<Vec<Tensor>, OnnxError> {
        self.inputs
            .iter()
            .map(|fact| {
                let expected = || {
                    format!(
                        "`{}` must be {} of shape {}",
                        fact.name,
                        fact.datatype,
                        fact.shape_text()
                    )
                };
                let value = request.get(&fact.name).ok_or_else(|| OnnxError::BadInput {
                    tensor: fact.name.clone(),
                    message: format!("{} and is missing", expected()),
                })?;
                let tensor = Tensor::from_nested_json(fact.datatype, value).map_err(|e| OnnxError::BadInput {
                    tensor: fact.name.clone(),
                    message: format!("{}: it {e}", expected()),
                })?;
                let fits = fact.dims.is_empty()
                    || (tensor.shape.len() == fact.dims.len()
                        && fact.dims.iter().zip(&tensor.shape).all(|(d, n)| match d {
                            Dimension::Fixed(want) => want == n,
                            _ => true,
                        }));
                if !fits {
                    return Err(OnnxError::BadInput {
                        tensor: fact.name.clone(),
                        message: format!("{}, got shape {:?}", expected(), tensor.shape),
                    });
                }
                Ok(tensor)
            })
            .collect()
    }

    /// The JSON answer of the output tensors, by output name.
    fn answer(&self, outputs: Vec<Tensor>) -> Result<Bytes, ModelError> {
        let body: Map<String, Value> = self
            .outputs
            .iter()
            .zip(outputs)
            .map(|(fact, tensor)| (fact.name.clone(), tensor.to_nested_json()))
            .collect();
        serde_json::to_vec(&body)
            .map(Bytes::from)
            .map_err(|e| ModelError::Failed(format!("cannot write the answer: {e}")))
    }
}

fn to_model_error(err: OnnxError) -> ModelError {
    match err {
        OnnxError::BadInput { tensor, message } => ModelError::InvalidInput {
            field: Some(tensor),
            message,
        },
        other => ModelError::Failed(other.to_string()),
    }
}

fn describe(tensors: &[TensorFact]) -> String {
    tensors
        .iter()
        .map(|t| format!("{} {} {}", t.name, t.datatype, t.shape_text()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `path` looks like an ONNX file (by its extension).
pub fn is_onnx_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
}
