//! `easymlserve deploy docker`: a multi-stage Dockerfile (a release build in the Rust image, then a slim
//! Debian runtime with only the binary and the model, run as a non-root user) and its .dockerignore.

use anyhow::{Result, bail};
use clap::{ArgGroup, Args};

use super::Output;
use super::pod::RUN_AS;

/// Settings of `deploy docker`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["example", "onnx", "python"])))]
pub struct DockerArgs {
    /// A Rust service package of the workspace to build (e.g. load-forecasting); its binary has the
    /// package's name and takes `serve`.
    #[arg(long, allow_hyphen_values = true)]
    pub example: Option<String>,
    /// With `--example`: run `<binary> train --models DIR` in the build stage, copy DIR into the image
    /// and serve with `--models DIR` (the load-forecasting example's flags).
    #[arg(long, value_name = "DIR", allow_hyphen_values = true)]
    pub train_models: Option<String>,
    /// An ONNX file (relative to the repository root, the build context) to serve with
    /// `easymlserve serve --model-dir /models`.
    #[arg(long, value_name = "FILE.onnx", allow_hyphen_values = true)]
    pub onnx: Option<String>,
    /// A Python service directory (relative to the repository root) with `service.py` and
    /// `requirements.txt`, served with `easymlserve serve --python`.
    #[arg(long, value_name = "DIR", allow_hyphen_values = true)]
    pub python: Option<String>,
    /// The image of the build stage.
    #[arg(long, default_value = "rust:1.95-slim-trixie", allow_hyphen_values = true)]
    pub rust_image: String,
    /// The image of the runtime stage.
    #[arg(long, default_value = "debian:trixie-slim", allow_hyphen_values = true)]
    pub runtime_image: String,
    #[command(flatten)]
    pub out: Output,
}

/// Refuses a value that would break the Dockerfile's syntax or leave the build context.
fn plain(flag: &str, value: &str, relative_path: bool) -> Result<()> {
    let bad_char = value.is_empty()
        || value.starts_with('-')
        || value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"');
    let escapes = relative_path && (value.starts_with('/') || value.split('/').any(|part| part == ".."));
    if bad_char || escapes {
        let what = if relative_path {
            "a path inside the repository (relative, no `..`, no spaces or quotes)"
        } else {
            "a plain word (no spaces or quotes)"
        };
        bail!("`{flag}` {value:?} is not {what}");
    }
    Ok(())
}

/// The parts of the Dockerfile that depend on what is served.
struct Plan {
    package: String,
    binary: String,
    build_extra: String,
    runtime_extra: String,
    cmd: Vec<String>,
}

impl DockerArgs {
    fn plan(&self) -> Result<Plan> {
        plain("--rust-image", &self.rust_image, false)?;
        plain("--runtime-image", &self.runtime_image, false)?;
        if self.train_models.is_some() && self.example.is_none() {
            bail!("`--train-models` needs `--example`: it trains a Rust example's models");
        }
        if let Some(example) = &self.example {
            plain("--example", example, false)?;
            let (build_extra, runtime_extra, cmd) = match &self.train_models {
                None => (String::new(), String::new(), vec!["serve".into()]),
                Some(dir) => {
                    if !dir.starts_with('/') || dir.chars().any(|c| c.is_whitespace() || c == '"') {
                        bail!("`--train-models` {dir:?} is not an absolute path inside the image, such as /models");
                    }
                    (
                        format!(
                            "# The models are trained here, once per build, from the data in the repository.\n\
                             RUN target/release/{example} train --models {dir}\n"
                        ),
                        format!("COPY --from=build {dir} {dir}\n"),
                        vec!["serve".into(), "--models".into(), dir.clone()],
                    )
                }
            };
            return Ok(Plan {
                package: example.clone(),
                binary: example.clone(),
                build_extra,
                runtime_extra,
                cmd,
            });
        }
        if let Some(onnx) = &self.onnx {
            plain("--onnx", onnx, true)?;
            if !onnx.ends_with(".onnx") {
                bail!("`--onnx` {onnx:?} is not an .onnx file");
            }
            return Ok(Plan {
                package: "easymlserve-cli".into(),
                binary: "easymlserve".into(),
                build_extra: String::new(),
                runtime_extra: format!("COPY {onnx} /models/\n"),
                cmd: vec!["serve".into(), "--model-dir".into(), "/models".into()],
            });
        }
        if let Some(dir) = &self.python {
            plain("--python", dir, true)?;
            let dir = dir.trim_end_matches('/');
            return Ok(Plan {
                package: "easymlserve-cli".into(),
                binary: "easymlserve".into(),
                build_extra: String::new(),
                runtime_extra: format!(
                    "RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \\\n    \
                     && rm -rf /var/lib/apt/lists/*\n\
                     COPY {dir}/ /service/\n\
                     RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir -r /service/requirements.txt\n\
                     ENV EASYMLSERVE_PYTHON=/opt/venv/bin/python PYTHONDONTWRITEBYTECODE=1\n"
                ),
                cmd: vec!["serve".into(), "--python".into(), "/service/service.py".into()],
            });
        }
        bail!("give one of `--example`, `--onnx` or `--python`")
    }

    /// The Dockerfile and .dockerignore.
    pub fn render(&self) -> Result<Vec<(String, String)>> {
        let Plan {
            package,
            binary,
            build_extra,
            runtime_extra,
            cmd,
        } = self.plan()?;
        let cmd = cmd
            .iter()
            .map(|arg| format!("\"{arg}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let what = match (&self.example, &self.train_models, &self.onnx, &self.python) {
            (Some(example), Some(dir), _, _) => format!("--example {example} --train-models {dir}"),
            (Some(example), None, _, _) => format!("--example {example}"),
            (None, _, Some(onnx), _) => format!("--onnx {onnx}"),
            (None, _, None, Some(dir)) => format!("--python {dir}"),
            (None, _, None, None) => String::new(),
        };
        let rust_image = &self.rust_image;
        let runtime_image = &self.runtime_image;
        let dockerfile = format!(
            "# syntax=docker/dockerfile:1\n\
             # Generated by `easymlserve deploy docker {what}`.\n\
             # Build it with the repository root as the context:\n\
             #   docker build -f <this file> -t IMAGE .\n\
             # Run: docker run --rm -p 8080:8080 IMAGE   (the server listens on 0.0.0.0:$PORT, 8080 here)\n\
             \n\
             FROM {rust_image} AS build\n\
             WORKDIR /src\n\
             COPY . .\n\
             RUN --mount=type=cache,target=/usr/local/cargo/registry \\\n    \
             cargo build --release --locked -p {package}\n\
             {build_extra}\
             \n\
             FROM {runtime_image}\n\
             RUN useradd --system --uid {RUN_AS} --user-group --no-create-home --shell /usr/sbin/nologin easymlserve\n\
             {runtime_extra}\
             COPY --from=build /src/target/release/{binary} /usr/local/bin/{binary}\n\
             # The server binds 127.0.0.1 by default; in a container it must listen on every address.\n\
             # PORT is the lowest-priority port setting: KServe and Cloud Run override it.\n\
             ENV EASYMLSERVE_HOST=0.0.0.0 PORT=8080\n\
             USER {RUN_AS}:{RUN_AS}\n\
             EXPOSE 8080\n\
             # No HEALTHCHECK: the slim image has no HTTP client; clusters probe /health/ready and /health/live.\n\
             ENTRYPOINT [\"{binary}\"]\n\
             CMD [{cmd}]\n"
        );
        let ignore = "# Generated by `easymlserve deploy docker`: what the build context leaves out.\n\
                      target\n.git\n.venvs\n**/.venv\n**/__pycache__\nexamples/load-forecasting/models\n"
            .to_string();
        Ok(vec![
            ("Dockerfile".into(), dockerfile),
            (".dockerignore".into(), ignore),
        ])
    }
}
