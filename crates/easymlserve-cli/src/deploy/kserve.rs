//! `easymlserve deploy kserve`: a ServingRuntime that runs `easymlserve serve` on the v2 inference
//! protocol, and an InferenceService that uses it for one model.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use serde_json::json;

use super::pod::{self, PodArgs};
use super::{Output, checks, yaml_documents};

/// The port KServe sends traffic to.
const PORT: u16 = 8080;

/// Where KServe's storage initializer puts the model that `storageUri` names.
const MODEL_DIR: &str = "/mnt/models";

/// The InferenceService's deployment mode: KServe makes a plain Deployment of the predictor, whose pod
/// takes the predictor's `terminationGracePeriodSeconds` and the runtime container's preStop hook.
/// (Knative, the other mode, refuses both fields and drains with its own queue-proxy.)
const DEPLOYMENT_MODE: &str = "Standard";

/// The storage schemes KServe's storage initializer can fetch from.
const SCHEMES: [&str; 8] = [
    "s3://",
    "gs://",
    "pvc://",
    "https://",
    "http://",
    "hdfs://",
    "webhdfs://",
    "oci://",
];

/// Model formats the runtime declares.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// An ONNX file.
    Onnx,
    /// The runtime's own format name, for models no other runtime should pick.
    Easymlserve,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Onnx => "onnx",
            Format::Easymlserve => "easymlserve",
        }
    }
}

/// Settings of `deploy kserve`.
#[derive(Debug, Args)]
pub struct KserveArgs {
    /// Name of the InferenceService (the runtime is `<name>-runtime`); a DNS-1123 label.
    #[arg(long, allow_hyphen_values = true)]
    pub name: String,
    /// Container image holding `easymlserve`.
    #[arg(long, allow_hyphen_values = true)]
    pub image: String,
    /// Where KServe fetches the model from, e.g. s3://bucket/model or pvc://claim/path; it is mounted
    /// at /mnt/models.
    #[arg(long, allow_hyphen_values = true)]
    pub storage_uri: String,
    /// Model format the runtime declares and the InferenceService asks for.
    #[arg(long, value_enum, default_value_t = Format::Onnx)]
    pub format: Format,
    /// Replicas at least (KServe scales between this and `--max-replicas`).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
    pub replicas: u32,
    /// Replicas at most.
    #[arg(long, default_value_t = 4, allow_negative_numbers = true)]
    pub max_replicas: u32,
    #[command(flatten)]
    pub pod: PodArgs,
    #[command(flatten)]
    pub out: Output,
}

impl KserveArgs {
    fn check(&self) -> Result<()> {
        checks::name("--name", &self.name)?;
        checks::image(&self.image)?;
        let uri = &self.storage_uri;
        let known = SCHEMES
            .iter()
            .any(|scheme| uri.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty()));
        if !known || uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bail!(
                "`--storage-uri` {uri:?} is not a URI KServe can fetch: it starts with one of {}",
                SCHEMES.join(", ")
            );
        }
        if self.max_replicas < self.replicas {
            bail!(
                "`--max-replicas` {} is below `--replicas` {}",
                self.max_replicas,
                self.replicas
            );
        }
        checks::at_least("--max-replicas", self.max_replicas, 1)?;
        self.pod.check()
    }

    /// The two resources as one YAML file.
    pub fn render(&self) -> Result<Vec<(String, String)>> {
        self.check()?;
        let runtime = format!("{}-runtime", self.name);
        let mut args = vec![
            "serve".to_string(),
            "--model-dir".into(),
            MODEL_DIR.into(),
            "--port".into(),
            PORT.to_string(),
            "--log-format".into(),
            "json".into(),
        ];
        args.extend(self.pod.drain_args());
        // KServe's default readiness probe is a TCP check, which passes before the model has loaded:
        // the runtime brings its own HTTP probes on the v2 health routes.
        let container = pod::merge(
            json!({
                "name": "kserve-container",
                "image": self.image,
                "command": ["easymlserve"],
                "args": args,
                "env": [{"name": "EASYMLSERVE_HOST", "value": "0.0.0.0"}],
                "ports": [{"name": "http1", "containerPort": PORT, "protocol": "TCP"}],
                "lifecycle": self.pod.lifecycle(),
                "resources": self.pod.resources(),
                "securityContext": pod::container_security(),
                // Without it the read-only root filesystem leaves a Python service nowhere to write.
                "volumeMounts": pod::volume_mounts(),
            }),
            self.pod.probes("/v2/health/ready", "/v2/health/live", json!(PORT)),
        );
        let serving_runtime = json!({
            "apiVersion": "serving.kserve.io/v1alpha1",
            "kind": "ServingRuntime",
            "metadata": {"name": runtime},
            "spec": {
                "protocolVersions": ["v2"],
                "supportedModelFormats": [{"name": self.format.name(), "version": "1", "autoSelect": true}],
                "containers": [container],
                "volumes": pod::volumes(),
            },
        });
        let service = json!({
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {
                "name": self.name,
                "annotations": {"serving.kserve.io/deploymentMode": DEPLOYMENT_MODE},
            },
            "spec": {"predictor": {
                "minReplicas": self.replicas,
                "maxReplicas": self.max_replicas,
                // The predictor embeds the pod's fields; the ServingRuntime has no place for this one.
                // Without it Kubernetes' 30 s default would SIGKILL the server in the middle of its drain.
                "terminationGracePeriodSeconds": self.pod.grace_secs(),
                "model": {
                    "modelFormat": {"name": self.format.name()},
                    "protocolVersion": "v2",
                    "runtime": runtime,
                    "storageUri": self.storage_uri,
                },
            }},
        });
        let comment = format!(
            "Generated by `easymlserve deploy kserve`: a ServingRuntime on the v2 protocol and an \
             InferenceService using it,\nin KServe's {DEPLOYMENT_MODE} deployment mode. KServe mounts the \
             model at /mnt/models; the drain is the one of `deploy kubernetes`.\n{}",
            self.pod.grace_comment()
        );
        let text = yaml_documents(&comment, &[serving_runtime, service])?;
        Ok(vec![(format!("{}.yaml", self.name), text)])
    }
}
