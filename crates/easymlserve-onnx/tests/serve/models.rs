//! The two example models over REST: spec and docs from the tensors, answers equal to ONNX Runtime's,
//! refusals that name the tensor and its shape, the runtime choice and batching.

use std::time::Duration;

use easymlserve::server::ServerConfig;
use easymlserve_onnx::RuntimeChoice;
use serde_json::{Value, json};

use crate::{assert_close, config, numbers, onnx_python, process, reference, serve};

fn example_request(model: &str) -> Value {
    serde_json::from_slice(&std::fs::read(crate::example(&format!("models/{model}.example.json"))).unwrap()).unwrap()
}

#[tokio::test]
async fn the_digits_cnn_gets_its_schemas_docs_labels_and_gui_from_its_tensors() {
    let url = serve(
        config("digits_cnn.onnx", RuntimeChoice::Tract, None),
        ServerConfig::default(),
    )
    .await;
    let spec: Value = reqwest::get(format!("{url}/api/spec"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["name"], "digits_cnn");
    let image = &spec["request_schema"]["properties"]["image"];
    assert_eq!(image["type"], "array");
    assert_eq!(image["items"]["minItems"], 1, "the channel dimension is fixed: {image}");
    assert_eq!(image["items"]["items"]["items"]["maxItems"], 8);
    assert_eq!(image["items"]["items"]["items"]["items"]["type"], "number");
    assert!(image.get("minItems").is_none(), "the batch dimension varies");
    assert_eq!(spec["required"], Value::Null);
    assert_eq!(spec["request_schema"]["required"], json!(["image"]));
    let tensors = &spec["tensors"];
    assert_eq!(tensors["platform"], "tract_onnx");
    assert_eq!(tensors["inputs"][0]["shape"], json!([-1, 1, 8, 8]));
    assert_eq!(tensors["inputs"][0]["image"]["channels"], 1);
    assert_eq!(tensors["outputs"][0]["labels"][7], "7");
    assert!(spec["capabilities"]["batching"].as_bool().unwrap());
    // The generated GUI: an image upload in, ranked classes out.
    let ui = &spec["ui"];
    assert_eq!(ui["inputs"][0]["kind"], "image_file", "{ui}");
    assert_eq!(ui["outputs"][0]["kind"], "label", "{ui}");
    let openapi: Value = reqwest::get(format!("{url}/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = openapi.to_string();
    assert!(
        text.contains("FP32 tensor of shape [N, 1, 8, 8]"),
        "the docs describe the tensor"
    );

    let (status, answer) = process(&url, &example_request("digits_cnn")).await;
    assert_eq!(status, 200, "{answer}");
    let scores = numbers(&answer["probabilities"]);
    assert_eq!(scores.len(), 10);
    assert!(
        (scores.iter().sum::<f64>() - 1.0).abs() < 1e-4,
        "softmax scores sum to 1: {scores:?}"
    );
}

#[tokio::test]
async fn answers_equal_onnx_runtimes_own_for_both_models() {
    let Some(python) = onnx_python() else { return };
    // The CNN on tract (pure Rust); the regression pipeline needs ONNX Runtime (tract lacks `Scaler`).
    for (model, runtime, platform) in [
        ("digits_cnn", RuntimeChoice::Tract, "tract_onnx"),
        ("digits_cnn", RuntimeChoice::Ort, "onnxruntime_onnx"),
        ("diabetes", RuntimeChoice::Auto, "onnxruntime_onnx"),
    ] {
        let url = serve(
            config(&format!("{model}.onnx"), runtime, Some(&python)),
            ServerConfig::default(),
        )
        .await;
        let spec: Value = reqwest::get(format!("{url}/api/spec"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(spec["tensors"]["platform"], platform, "{model} under {runtime:?}");
        let mut request = example_request(model);
        // A batch of three different rows, so every row is compared, not one repeated.
        let name = request.as_object().unwrap().keys().next().unwrap().clone();
        let row = request[&name][0].clone();
        request[&name] = json!([row.clone(), scale(&row, 0.9), scale(&row, 1.1)]);
        let (status, answer) = process(&url, &request).await;
        assert_eq!(status, 200, "{answer}");
        let want = reference(&python, &format!("{model}.onnx"), &request);
        for (output, expected) in want.as_object().unwrap() {
            assert_close(
                &numbers(&answer[output]),
                &numbers(expected),
                &format!("{model} `{output}` on {platform}"),
            );
        }
    }
}

/// `value` (nested numbers) times `k`.
fn scale(value: &Value, k: f64) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| scale(v, k)).collect()),
        other => json!(other.as_f64().unwrap_or(0.0) * k),
    }
}

#[tokio::test]
async fn wrong_shapes_types_and_missing_inputs_are_422s_naming_the_tensor_and_its_shape() {
    let url = serve(
        config("digits_cnn.onnx", RuntimeChoice::Tract, None),
        ServerConfig::default(),
    )
    .await;
    let row = vec![vec![0.0; 8]; 8];
    let cases = [
        (json!({}), "image", "is required"),
        (json!({"image": 5}), "image", "shape [N, 1, 8, 8]"),
        (
            json!({"image": [[vec![vec![0.0; 7]; 8]]]}),
            "image[0][0][0]",
            "needs at least 8 items",
        ),
        (
            json!({"image": [[row.clone(), row.clone()]]}),
            "image[0]",
            "at most 1 items",
        ),
        (
            json!({"image": [[vec![vec!["x"; 8]; 8]]]}),
            "image[0][0][0][0]",
            "FP32 of shape [N, 1, 8, 8]",
        ),
        (
            json!({"image": [[row.clone()]], "extra": 1}),
            "extra",
            "not a known field",
        ),
    ];
    for (body, field, needle) in cases {
        let (status, answer) = process(&url, &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: `{message}` should say `{needle}`");
        assert!(
            answer["field"]
                .as_str()
                .unwrap_or("")
                .starts_with(field.split('[').next().unwrap()),
            "{answer}"
        );
        if field.starts_with("image") {
            assert!(message.contains("image"), "the message names the tensor: {message}");
        }
    }
    // The server is unharmed.
    let (status, _) = process(&url, &json!({"image": [[row]]})).await;
    assert_eq!(status, 200);
}

#[test]
fn a_model_tract_cannot_run_names_the_operator_and_auto_without_onnx_runtime_says_why() {
    use easymlserve::server::Backend;
    let mut tract = easymlserve_onnx::OnnxBackend::new(config("diabetes.onnx", RuntimeChoice::Tract, None));
    let err = tract.load().expect_err("tract lacks Scaler").to_string();
    assert!(
        err.contains("tract does not implement the operator ai.onnx.ml.Scaler"),
        "{err}"
    );
    let mut auto = easymlserve_onnx::OnnxBackend::new(config("diabetes.onnx", RuntimeChoice::Auto, None));
    let err = auto.load().expect_err("no ONNX Runtime here").to_string();
    assert!(
        err.contains("Scaler") && err.contains("ONNX Runtime is not available"),
        "{err}"
    );
    let mut missing = easymlserve_onnx::OnnxBackend::new(config("nope.onnx", RuntimeChoice::Tract, None));
    let err = missing.load().expect_err("no file").to_string();
    assert!(
        err.contains("cannot read the ONNX model") && err.contains("nope.onnx"),
        "{err}"
    );
}

#[tokio::test]
async fn batching_along_the_first_dimension_answers_each_request_with_its_own_rows() {
    let unbatched = serve(
        config("digits_cnn.onnx", RuntimeChoice::Tract, None),
        ServerConfig::default(),
    )
    .await;
    let batched = ServerConfig {
        workers: 1,
        batching: easymlserve::server::Batching {
            max_size: 8,
            max_wait: Duration::from_millis(30),
        },
        ..ServerConfig::default()
    };
    let url = serve(config("digits_cnn.onnx", RuntimeChoice::Tract, None), batched).await;
    let row = example_request("digits_cnn")["image"][0].clone();
    // Twelve requests of one or two different rows each.
    let requests: Vec<Value> = (0..12)
        .map(|i| {
            let one = scale(&row, 0.5 + f64::from(i) / 10.0);
            if i % 3 == 0 {
                json!({"image": [one.clone(), scale(&one, 0.3)]})
            } else {
                json!({"image": [one]})
            }
        })
        .collect();
    let mut expected = Vec::new();
    for request in &requests {
        expected.push(process(&unbatched, request).await.1);
    }
    let answers = futures_join(requests.iter().cloned().map(|request| {
        let url = url.clone();
        async move { process(&url, &request).await }
    }))
    .await;
    for (i, ((status, got), want)) in answers.into_iter().zip(&expected).enumerate() {
        assert_eq!(status, 200, "{got}");
        let rows = got["probabilities"].as_array().unwrap().len();
        assert_eq!(rows, if i % 3 == 0 { 2 } else { 1 }, "request {i} gets its own rows");
        assert_close(
            &numbers(&got["probabilities"]),
            &numbers(&want["probabilities"]),
            &format!("batched request {i}"),
        );
    }
    let metrics = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let batches: f64 = metrics
        .lines()
        .find(|l| l.starts_with("easymlserve_batch_size_count"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(
        batches > 0.0 && batches < 12.0,
        "twelve requests went in fewer batches: {batches}"
    );
}

/// Runs the futures concurrently and returns their outputs in order.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
