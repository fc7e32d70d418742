//! The generated containers really start: the command, args and env of the ONNX Deployment and of the
//! KServe runtime, run here with the model directory and port moved to a scratch directory and a free
//! port, serve a model whose readiness and liveness probes (the paths the manifest names) answer 200.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{BIN, documents, generated, repo, scratch};

/// Kills the server when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The status code of `GET path`, or None while nothing listens.
fn get(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs `container` (a manifest's container) with `model_dir` in place of the directory its args name
/// and `port` in place of its port; returns its readiness and liveness paths once readiness is 200.
fn start(container: &Value, model_dir: &Path, port: u16) -> (Running, String, String) {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(strings(&container["command"]), ["easymlserve"]);
    let mut args = strings(&container["args"]);
    let at = args.iter().position(|a| a == "--model-dir").unwrap();
    args[at + 1] = model_dir.display().to_string();
    if let Some(at) = args.iter().position(|a| a == "--port") {
        args[at + 1] = port.to_string();
    }
    let mut command = Command::new(BIN);
    command.args(&args).stdout(Stdio::null()).stderr(Stdio::null());
    for var in container["env"].as_array().unwrap() {
        let (name, value) = (var["name"].as_str().unwrap(), var["value"].as_str().unwrap());
        let value = if name == "EASYMLSERVE_PORT" {
            port.to_string()
        } else {
            value.to_owned()
        };
        command.env(name, value);
    }
    command.env_remove("PORT");
    let mut server = Running(command.spawn().unwrap());
    let ready = container["readinessProbe"]["httpGet"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let live = container["livenessProbe"]["httpGet"]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(port, &ready) != Some(200) {
        assert!(server.0.try_wait().unwrap().is_none(), "the server exited: {args:?}");
        assert!(Instant::now() < deadline, "{ready} not 200 within 60 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, ready, live)
}

#[test]
fn the_generated_onnx_containers_serve_the_model_and_answer_their_probes() {
    let models = scratch("probe-models");
    std::fs::copy(
        repo().join("examples/onnx/models/digits_cnn.onnx"),
        models.join("digits_cnn.onnx"),
    )
    .unwrap();
    let mut checked = Vec::new();
    for (path, text) in generated("probes") {
        if !path.ends_with("kubernetes/digits.yaml") && !path.ends_with("kserve/digits.yaml") {
            continue;
        }
        for doc in documents(&text) {
            let container = match doc["kind"].as_str().unwrap() {
                "Deployment" => doc["spec"]["template"]["spec"]["containers"][0].clone(),
                "ServingRuntime" => doc["spec"]["containers"][0].clone(),
                _ => continue,
            };
            let port = free_port();
            let (_server, ready, live) = start(&container, &models, port);
            assert_eq!(get(port, &live), Some(200), "{live}");
            let startup = container["startupProbe"]["httpGet"]["path"].as_str().unwrap();
            assert_eq!(get(port, startup), Some(200), "{startup}");
            checked.push(format!("{} {ready} {live}", doc["kind"].as_str().unwrap()));
        }
    }
    assert_eq!(
        checked,
        [
            "Deployment /health/ready /health/live",
            "ServingRuntime /v2/health/ready /v2/health/live"
        ]
    );
    std::fs::remove_dir_all(models).unwrap();
}
