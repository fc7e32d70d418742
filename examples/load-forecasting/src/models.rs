//! The three forecasting models, fitted with smartcore, and their model files.
//!
//! Linear regression and the random forest are smartcore's own types, saved with serde in postcard's
//! compact binary format. The SVR is fitted by smartcore too, but smartcore 0.7 cannot predict with an
//! SVR read back from a file (its kernel parameters are a borrowed field that serde skips when reading),
//! so we keep the fitted support vectors, dual weights and bias, and evaluate the RBF decision function
//! `b + Σ w_i exp(-γ‖x - sv_i‖²)` ourselves; a test checks it against smartcore's `predict`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use easymlserve::prelude::*;
use smartcore::ensemble::random_forest_regressor::{RandomForestRegressor, RandomForestRegressorParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::linear_regression::{LinearRegression, LinearRegressionParameters};
use smartcore::svm::Kernels;
use smartcore::svm::svr::{SVR, SVRParameters};

use crate::compact_forest::CompactForest;
use crate::features::N_FEATURES;

/// A row-major matrix of feature rows.
type Matrix = DenseMatrix<f64>;

/// The models a request can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum ModelKind {
    /// Linear regression (least squares).
    #[serde(rename = "LR")]
    Lr,
    /// Support vector regression, RBF kernel.
    #[serde(rename = "SVR")]
    Svr,
    /// Random forest of regression trees.
    #[serde(rename = "RF")]
    Rf,
}

impl ModelKind {
    /// All models, in the order the GUI lists them.
    pub const ALL: [Self; 3] = [Self::Lr, Self::Svr, Self::Rf];

    /// The name used on the wire: `LR`, `SVR`, `RF`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Lr => "LR",
            Self::Svr => "SVR",
            Self::Rf => "RF",
        }
    }

    /// A model by its wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The file the model is saved in, inside the models folder.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Lr => "lr.bin",
            Self::Svr => "svr.bin",
            Self::Rf => "rf.bin",
        }
    }
}

/// Settings of the fits; the defaults are scikit-learn's defaults, as in the original example.
#[derive(Debug, Clone)]
pub struct FitSettings {
    /// Trees in the random forest.
    pub trees: usize,
    /// Seed of the forest's bootstrap samples and feature draws.
    pub seed: u64,
    /// Features tried at each split; `None` tries all (scikit-learn's default for regression).
    pub max_features: Option<usize>,
    /// SVR `C`.
    pub svr_c: f64,
    /// SVR epsilon.
    pub svr_epsilon: f64,
}

impl Default for FitSettings {
    fn default() -> Self {
        Self {
            trees: 100,
            seed: 42,
            max_features: None,
            svr_c: 1.0,
            svr_epsilon: 0.1,
        }
    }
}

/// Fitted support vector regression: what smartcore's SVR learned, in a form we can save and evaluate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SvrModel {
    /// RBF kernel width.
    pub gamma: f64,
    /// Intercept.
    pub bias: f64,
    /// Dual coefficient of each support vector.
    pub weights: Vec<f64>,
    /// Support vectors, row-major, `weights.len() x N_FEATURES`.
    pub support: Vec<f64>,
}

impl SvrModel {
    /// The decision function for feature rows `x` (row-major, flat).
    pub fn predict(&self, x: &[f64]) -> Vec<f64> {
        crate::svr_kernel::decision(&self.support, &self.weights, self.gamma, self.bias, x, N_FEATURES)
    }

    /// Number of support vectors.
    pub fn support_vectors(&self) -> usize {
        self.weights.len()
    }
}

/// A fitted model of any kind.
pub enum Model {
    /// Linear regression.
    Linear(LinearRegression<f64, f64, Matrix, Vec<f64>>),
    /// Support vector regression.
    Svr(SvrModel),
    /// Random forest.
    Forest(Forest),
}

/// A random forest grown in parts of a few trees each (so training can show progress and use every
/// core); it predicts the mean over all its trees, like one forest, through a compact copy of its
/// trees built on first use (see `compact_forest`).
#[derive(Debug, Serialize, Deserialize)]
pub struct Forest {
    /// The parts and how many trees each has.
    pub parts: Vec<ForestPart>,
    /// The trees in prediction form; not saved, rebuilt from `parts`.
    #[serde(skip)]
    compact: std::sync::OnceLock<Result<CompactForest, String>>,
}

/// One part of a forest: its number of trees and the smartcore forest.
pub type ForestPart = (usize, RandomForestRegressor<f64, f64, Matrix, Vec<f64>>);

/// Trees per part of a forest.
pub const TREES_PER_PART: usize = 10;

impl Forest {
    /// Number of parts a forest of `trees` trees is grown in.
    pub fn part_count(trees: usize) -> usize {
        trees.div_ceil(TREES_PER_PART)
    }

    /// Grows part `index` of a forest of `settings.trees` trees. Part `i` is seeded with `seed + 1000 i`,
    /// so the whole forest is the same whichever thread grows which part.
    pub fn fit_part(x: &[f64], y: &[f64], settings: &FitSettings, index: usize) -> anyhow::Result<ForestPart> {
        let trees = TREES_PER_PART.min(settings.trees - index * TREES_PER_PART);
        let params = RandomForestRegressorParameters::default()
            .with_n_trees(trees)
            .with_seed(settings.seed.wrapping_add(1000 * index as u64))
            .with_m(settings.max_features.unwrap_or(N_FEATURES));
        let forest = RandomForestRegressor::fit(&matrix(x)?, &y.to_vec(), params)
            .map_err(|e| anyhow::anyhow!("random forest: {e}"))?;
        Ok((trees, forest))
    }

    /// A forest of fitted parts.
    pub fn new(parts: Vec<ForestPart>) -> Self {
        Self {
            parts,
            compact: std::sync::OnceLock::new(),
        }
    }

    /// Builds the prediction form now (it is otherwise built by the first prediction).
    pub fn prepare(&self) -> anyhow::Result<()> {
        self.compact().map(|_| ())
    }

    fn compact(&self) -> anyhow::Result<&CompactForest> {
        self.compact
            .get_or_init(|| CompactForest::from_parts(&self.parts).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("random forest: {e}"))
    }

    /// Mean prediction over all trees.
    pub fn predict(&self, x: &[f64]) -> anyhow::Result<Vec<f64>> {
        Ok(self.compact()?.predict(x))
    }

    /// Mean prediction over all trees with smartcore's own predict, the parts split over two threads
    /// (for comparison with the compact form).
    pub fn predict_with_smartcore(&self, x: &[f64]) -> anyhow::Result<Vec<f64>> {
        let xm = matrix(x)?;
        let total: usize = self.parts.iter().map(|(n, _)| n).sum();
        let weighted_sum = |parts: &[ForestPart]| {
            let mut sum = vec![0.0; x.len() / N_FEATURES];
            for (trees, part) in parts {
                let p = part.predict(&xm).map_err(|e| anyhow::anyhow!("random forest: {e}"))?;
                let weight = *trees as f64 / total as f64;
                sum.iter_mut().zip(p).for_each(|(s, v)| *s += weight * v);
            }
            anyhow::Ok(sum)
        };
        let (first, second) = self.parts.split_at(self.parts.len() / 2);
        let (a, b) = std::thread::scope(|scope| {
            let helper = scope.spawn(|| weighted_sum(first));
            let b = weighted_sum(second);
            (helper.join(), b)
        });
        let a = a.map_err(|_| anyhow::anyhow!("random forest: a prediction thread panicked"))??;
        Ok(a.iter().zip(b?).map(|(x, y)| x + y).collect())
    }
}

fn matrix(flat: &[f64]) -> anyhow::Result<Matrix> {
    Matrix::new(flat.len() / N_FEATURES, N_FEATURES, flat.to_vec(), false)
        .map_err(|e| anyhow::anyhow!("feature matrix: {e}"))
}

/// scikit-learn's `gamma="scale"`: 1 / (features x variance of all feature values).
pub fn scale_gamma(flat: &[f64]) -> f64 {
    let n = flat.len() as f64;
    let mean = flat.iter().sum::<f64>() / n;
    let variance = flat.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    1.0 / (N_FEATURES as f64 * variance)
}

impl Model {
    /// Fits a model of `kind` to feature rows `x` (row-major, flat) and targets `y`.
    pub fn fit(kind: ModelKind, x: &[f64], y: &[f64], settings: &FitSettings) -> anyhow::Result<Self> {
        match kind {
            ModelKind::Lr => LinearRegression::fit(&matrix(x)?, &y.to_vec(), LinearRegressionParameters::default())
                .map(Self::Linear)
                .map_err(|e| anyhow::anyhow!("linear regression: {e}")),
            ModelKind::Svr => Ok(Self::Svr(fit_svr(x, y, settings)?.0)),
            ModelKind::Rf => {
                let parts = (0..Forest::part_count(settings.trees))
                    .map(|i| Forest::fit_part(x, y, settings, i))
                    .collect::<anyhow::Result<_>>()?;
                Ok(Self::Forest(Forest::new(parts)))
            }
        }
    }

    /// Predictions (normalised load) for feature rows `x` (row-major, flat).
    pub fn predict(&self, x: &[f64]) -> anyhow::Result<Vec<f64>> {
        match self {
            Self::Linear(m) => m
                .predict(&matrix(x)?)
                .map_err(|e| anyhow::anyhow!("linear regression: {e}")),
            Self::Forest(m) => m.predict(x),
            Self::Svr(m) => Ok(m.predict(x)),
        }
    }

    /// The kind of this model.
    pub fn kind(&self) -> ModelKind {
        match self {
            Self::Linear(_) => ModelKind::Lr,
            Self::Svr(_) => ModelKind::Svr,
            Self::Forest(_) => ModelKind::Rf,
        }
    }

    /// Saves the model to `dir/<kind>.bin`; returns the path and its size in bytes.
    pub fn save(&self, dir: &Path) -> anyhow::Result<(PathBuf, u64)> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let header = Header::new(self.kind());
        let mut bytes = postcard::to_stdvec(&header)?;
        let body = match self {
            Self::Linear(m) => postcard::to_stdvec(m),
            Self::Svr(m) => postcard::to_stdvec(m),
            Self::Forest(m) => postcard::to_stdvec(m),
        }
        .with_context(|| format!("cannot encode the {} model", self.kind().name()))?;
        bytes.extend_from_slice(&body);
        let path = dir.join(self.kind().file_name());
        // Write then rename, so a crash never leaves a half-written model behind.
        let partial = path.with_extension("partial");
        std::fs::write(&partial, &bytes).with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, &path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok((path, bytes.len() as u64))
    }

    /// Loads the model of `kind` from `dir`.
    pub fn load(dir: &Path, kind: ModelKind) -> anyhow::Result<Self> {
        let path = dir.join(kind.file_name());
        let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let (header, body): (Header, &[u8]) = postcard::take_from_bytes(&bytes)
            .ok()
            .filter(|(h, _): &(Header, &[u8])| h.magic == MAGIC)
            .with_context(|| format!("{} is not a load-forecasting model file", path.display()))?;
        if header.version != FORMAT_VERSION || header.features != N_FEATURES as u32 || header.kind != kind {
            bail!(
                "{} was written by another version (format {}, {} features, model {}); train again with `load-forecasting train`",
                path.display(),
                header.version,
                header.features,
                header.kind.name()
            );
        }
        let model = match kind {
            ModelKind::Lr => postcard::from_bytes(body).map(Self::Linear),
            ModelKind::Svr => postcard::from_bytes(body).map(Self::Svr),
            ModelKind::Rf => postcard::from_bytes(body).map(Self::Forest),
        }
        .with_context(|| {
            format!(
                "{} is damaged; train again with `load-forecasting train`",
                path.display()
            )
        })?;
        if let Self::Forest(forest) = &model {
            // Build the prediction form while loading, not in the first request.
            forest
                .prepare()
                .with_context(|| format!("{} cannot be used", path.display()))?;
        }
        Ok(model)
    }
}

const MAGIC: &str = "load-forecasting model";
const FORMAT_VERSION: u32 = 1;

/// What a model file starts with, so a wrong or stale file is refused with a clear message.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    magic: String,
    version: u32,
    features: u32,
    kind: ModelKind,
}

impl Header {
    fn new(kind: ModelKind) -> Self {
        Self {
            magic: MAGIC.to_owned(),
            version: FORMAT_VERSION,
            features: N_FEATURES as u32,
            kind,
        }
    }
}

/// Fits smartcore's SVR (RBF kernel, scikit-learn's `gamma="scale"`) and reads back what it learned;
/// also returns smartcore's own predictions for `x`, for the consistency test.
pub fn fit_svr(x: &[f64], y: &[f64], settings: &FitSettings) -> anyhow::Result<(SvrModel, Vec<f64>)> {
    let xm = matrix(x)?;
    let y = y.to_vec();
    let gamma = scale_gamma(x);
    let params = SVRParameters::default()
        .with_c(settings.svr_c)
        .with_eps(settings.svr_epsilon)
        .with_kernel(Kernels::rbf().with_gamma(gamma));
    let svr = SVR::fit(&xm, &y, &params).map_err(|e| anyhow::anyhow!("SVR: {e}"))?;
    let own = svr.predict(&xm).map_err(|e| anyhow::anyhow!("SVR: {e}"))?;
    // smartcore keeps the fitted values in private fields; its serde form is the way to read them.
    let fitted = serde_json::to_value(&svr)?;
    let number = |v: &serde_json::Value| v.as_f64().context("SVR: a fitted value is not a number");
    let bias = number(&fitted["b"])?;
    let weights = fitted["w"]
        .as_array()
        .context("SVR: no dual weights")?
        .iter()
        .map(number)
        .collect::<anyhow::Result<Vec<f64>>>()?;
    let mut support = Vec::with_capacity(weights.len() * N_FEATURES);
    for instance in fitted["instances"].as_array().context("SVR: no support vectors")? {
        let values = instance.as_array().context("SVR: a support vector is not a list")?;
        if values.len() != N_FEATURES {
            bail!("SVR: a support vector has {} values, not {N_FEATURES}", values.len());
        }
        for v in values {
            support.push(number(v)?);
        }
    }
    if support.len() != weights.len() * N_FEATURES {
        bail!(
            "SVR: {} weights for {} support vectors",
            weights.len(),
            support.len() / N_FEATURES
        );
    }
    Ok((
        SvrModel {
            gamma,
            bias,
            weights,
            support,
        },
        own,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic regression problem: `y` depends smoothly on the first features.
    fn problem(rows: usize) -> (Vec<f64>, Vec<f64>) {
        let mut x = Vec::with_capacity(rows * N_FEATURES);
        let mut y = Vec::with_capacity(rows);
        for r in 0..rows {
            let row: Vec<f64> = (0..N_FEATURES)
                .map(|c| ((r * 7 + c * 13) % 17) as f64 / 8.0 - 1.0)
                .collect();
            y.push(0.6 * row[0] - 0.3 * row[1] + (row[2] * 2.0).sin() * 0.2);
            x.extend(row);
        }
        (x, y)
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("load-forecasting-models-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn saved_models_predict_exactly_as_before() {
        let (x, y) = problem(300);
        let settings = FitSettings {
            trees: 12,
            ..FitSettings::default()
        };
        let dir = temp_dir("round-trip");
        for kind in ModelKind::ALL {
            let model = Model::fit(kind, &x, &y, &settings).unwrap();
            let before = model.predict(&x).unwrap();
            let (path, bytes) = model.save(&dir).unwrap();
            assert!(path.ends_with(kind.file_name()) && bytes > 0);
            let loaded = Model::load(&dir, kind).unwrap();
            assert_eq!(loaded.kind(), kind);
            assert_eq!(
                loaded.predict(&x).unwrap(),
                before,
                "{} changed after loading",
                kind.name()
            );
        }
        // A file of another model in the SVR's place is refused, not misread.
        std::fs::copy(dir.join("lr.bin"), dir.join("svr.bin")).unwrap();
        let message = format!("{:#}", Model::load(&dir, ModelKind::Svr).map(|_| ()).unwrap_err());
        assert!(message.contains("train again"), "{message}");
        std::fs::write(dir.join("rf.bin"), b"not a model").unwrap();
        let message = format!("{:#}", Model::load(&dir, ModelKind::Rf).map(|_| ()).unwrap_err());
        assert!(message.contains("is not a load-forecasting model file"), "{message}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn our_svr_decision_function_is_smartcores() {
        let (x, y) = problem(200);
        let (svr, smartcore_predictions) = fit_svr(&x, &y, &FitSettings::default()).unwrap();
        assert!(svr.support_vectors() > 10);
        let ours = Model::Svr(svr).predict(&x).unwrap();
        for (a, b) in ours.iter().zip(&smartcore_predictions) {
            assert!((a - b).abs() < 1e-9, "{a} vs smartcore {b}");
        }
    }

    #[test]
    fn forests_are_reproducible_and_grown_in_parts() {
        let (x, y) = problem(150);
        let settings = FitSettings {
            trees: 25,
            ..FitSettings::default()
        };
        let a = Model::fit(ModelKind::Rf, &x, &y, &settings).unwrap();
        let b = Model::fit(ModelKind::Rf, &x, &y, &settings).unwrap();
        assert_eq!(a.predict(&x).unwrap(), b.predict(&x).unwrap());
        let Model::Forest(forest) = a else {
            panic!("not a forest")
        };
        let sizes: Vec<usize> = forest.parts.iter().map(|(n, _)| *n).collect();
        assert_eq!(sizes, vec![10, 10, 5]);
    }

    #[test]
    fn gamma_is_scikit_learns_scale() {
        // Values 0..N_FEATURES-1 repeated: variance of 0..29 is (29^2 - 1) / 12 = 70.
        let x: Vec<f64> = (0..2 * N_FEATURES).map(|i| (i % N_FEATURES) as f64).collect();
        assert!((scale_gamma(&x) - 1.0 / (29.0 * 70.0)).abs() < 1e-15);
    }
}
