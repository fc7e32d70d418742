//! `easymlserve deploy`: writes the files a cluster needs to run a service (Kubernetes manifests,
//! KServe resources, a Dockerfile), so users deploy on the engine they already operate.

mod docker;
mod kserve;
mod kubernetes;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
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
            None => {
                for (_, text) in files {
                    print!("{text}");
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

/// Refuses a name that Kubernetes would refuse (a DNS-1123 label).
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !ok {
        bail!(
            "--name {name:?} is not a DNS-1123 label (lower-case letters, digits and '-', at most 63, starting and ending with a letter or digit)"
        );
    }
    Ok(())
}

/// Refuses a memory size that is not a Kubernetes quantity such as `512Mi` or `1Gi`.
pub fn check_memory(memory: &str) -> Result<()> {
    let digits = memory.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &memory[digits.len()..];
    let number_ok = !digits.is_empty() && digits.parse::<f64>().is_ok_and(|n| n > 0.0);
    let suffixes = ["", "k", "M", "G", "T", "Ki", "Mi", "Gi", "Ti"];
    if !number_ok || !suffixes.contains(&suffix) {
        bail!("--memory {memory:?} is not a quantity such as 512Mi or 1Gi");
    }
    Ok(())
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
