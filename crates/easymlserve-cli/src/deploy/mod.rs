//! `easymlserve deploy`: writes the files a cluster needs to run a service (Kubernetes manifests,
//! KServe resources, a Dockerfile), so users deploy on the engine they already operate.

mod checks;
mod docker;
mod kserve;
mod kubernetes;
mod pod;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};

/// What `easymlserve deploy` writes.
#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// A Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget.
    Kubernetes(kubernetes::KubernetesArgs),
    /// A KServe ServingRuntime and an InferenceService using it.
    Kserve(kserve::KserveArgs),
    /// A multi-stage Dockerfile and its .dockerignore.
    Docker(docker::DockerArgs),
}

/// Where the output goes: a directory, or standard output.
#[derive(Debug, Args)]
pub struct Output {
    /// Directory to write the files into [default: standard output].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

impl DeployCommand {
    /// Generates the files and writes them.
    pub fn run(self) -> Result<()> {
        let (files, out) = match self {
            DeployCommand::Kubernetes(args) => (args.render()?, args.out),
            DeployCommand::Kserve(args) => (args.render()?, args.out),
            DeployCommand::Docker(args) => (args.render()?, args.out),
        };
        match out.out {
            // Standard output takes the main file; the others (a .dockerignore) only go to `--out`.
            None => {
                if let Some((_, text)) = files.first() {
                    print!("{text}");
                }
                for (name, _) in files.iter().skip(1) {
                    eprintln!("note: {name} is written only with `--out DIR`");
                }
            }
            Some(dir) => {
                std::fs::create_dir_all(&dir).with_context(|| format!("--out: cannot create {}", dir.display()))?;
                for (name, text) in files {
                    let path = dir.join(name);
                    std::fs::write(&path, text).with_context(|| format!("--out: cannot write {}", path.display()))?;
                }
            }
        }
        Ok(())
    }
}

/// Emits one or more manifests as a YAML stream with a comment on top.
pub fn yaml_documents(comment: &str, docs: &[serde_json::Value]) -> Result<String> {
    let mut text = String::new();
    for line in comment.lines() {
        text.push_str("# ");
        text.push_str(line);
        text.push('\n');
    }
    for doc in docs {
        text.push_str("---\n");
        text.push_str(&serde_norway::to_string(doc).context("cannot write YAML")?);
    }
    Ok(text)
}
