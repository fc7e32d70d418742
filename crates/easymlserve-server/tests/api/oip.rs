//! The inference protocol's routes on a JSON service: metadata from the schemas, JSON and binary infer
//! through the same engine as `/process`, the protocol's error shapes, API keys, lying binary bodies,
//! and tritonclient's and KServe's own clients (`tests/oip/oip_clients.py`, when
//! `$EASYMLSERVE_TEST_VENV_OIP_CLIENTS` is set by `scripts/test`).

use easymlserve_core::schemars::JsonSchema;
use easymlserve_core::{Service, ServiceError, ServiceInfo};
use easymlserve_server::ApiKeys;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::util::{TestServer, config};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EchoRequest {
    text: String,
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10))]
    repeat: u32,
    /// Optional rows of three weights, summed into `total`.
    #[serde(default)]
    weights: Option<Vec<[f64; 3]>>,
    /// Any JSON, counted into `keys`.
    #[serde(default)]
    extra: Option<serde_json::Map<String, Value>>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Serialize, JsonSchema)]
struct EchoResponse {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keys: Option<Vec<String>>,
}

struct Echo;

impl Service for Echo {
    type Request = EchoRequest;
    type Response = EchoResponse;

    fn info(&self) -> ServiceInfo {
        ServiceInfo::new("Echo").version("2.0")
    }

    fn process(&self, request: EchoRequest) -> Result<EchoResponse, ServiceError> {
        Ok(EchoResponse {
            text: request.text.repeat(request.repeat as usize),
            total: request.weights.map(|rows| rows.iter().flatten().sum()),
            keys: request.extra.map(|map| map.keys().cloned().collect()),
        })
    }
}

/// Exactly the echo of the client driver's `echo` case: a text and a repeat count in, the text out.
struct PlainEcho;

#[derive(Debug, Deserialize, JsonSchema)]
struct PlainRequest {
    text: String,
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10))]
    repeat: u32,
}

#[derive(Debug, Serialize, JsonSchema)]
struct PlainResponse {
    text: String,
}

impl Service for PlainEcho {
    type Request = PlainRequest;
    type Response = PlainResponse;

    fn info(&self) -> ServiceInfo {
        ServiceInfo::new("echo")
    }

    fn process(&self, request: PlainRequest) -> Result<PlainResponse, ServiceError> {
        Ok(PlainResponse {
            text: request.text.repeat(request.repeat as usize),
        })
    }
}

async fn infer(server: &TestServer, path: &str, body: Vec<u8>, header_len: Option<usize>) -> reqwest::Response {
    let mut request = server.http.post(format!("{}{path}", server.url)).body(body);
    if let Some(len) = header_len {
        request = request.header("Inference-Header-Content-Length", len);
    }
    request.send().await.unwrap()
}

fn binary(header: &Value, raw: &[u8]) -> (Vec<u8>, usize) {
    let mut body = serde_json::to_vec(header).unwrap();
    let len = body.len();
    body.extend_from_slice(raw);
    (body, len)
}

#[tokio::test]
async fn metadata_maps_each_field_to_a_tensor_and_health_has_the_bodies_kserve_reads() {
    let server = TestServer::start(Echo, config()).await;
    let v2: Value = server.get("/v2").await.json().await.unwrap();
    assert_eq!(v2["name"], "easymlserve");
    assert_eq!(
        server.get("/v2/health/live").await.json::<Value>().await.unwrap(),
        json!({"live": true})
    );
    assert_eq!(
        server.get("/v2/health/ready").await.json::<Value>().await.unwrap(),
        json!({"ready": true})
    );
    let meta: Value = server.get("/v2/models/echo").await.json().await.unwrap();
    assert_eq!(meta["name"], "echo");
    assert_eq!(meta["versions"], json!(["2.0"]));
    assert_eq!(meta["platform"], "easymlserve_json");
    let inputs: Vec<(String, String, Value)> = meta["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["datatype"].as_str().unwrap().to_owned(),
                t["shape"].clone(),
            )
        })
        .collect();
    let want = [
        ("extra", "BYTES", json!([1])),
        ("repeat", "INT64", json!([1])),
        ("text", "BYTES", json!([1])),
        ("weights", "FP64", json!([-1, 3])),
    ];
    let want: Vec<(String, String, Value)> = want
        .iter()
        .map(|(n, d, s)| ((*n).into(), (*d).into(), s.clone()))
        .collect();
    assert_eq!(inputs, want);
    assert_eq!(meta["parameters"]["inputs"]["extra"], "json_text");
    assert_eq!(server.get("/v2/models/echo/versions/2.0").await.status(), 200);
    assert_eq!(server.get("/v2/models/echo/ready").await.status(), 200);
    let (status, body) = (server.get("/v2/models/echo/versions/3").await.status(), "");
    assert_eq!((status.as_u16(), body), (404, ""));
    let missing = server.get("/v2/models/other").await;
    assert_eq!(missing.status(), 404);
    let error: Value = missing.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("serves `echo`"), "{error}");
}

#[tokio::test]
async fn json_infer_runs_the_service_and_answers_tensors() {
    let server = TestServer::start(Echo, config()).await;
    let request = json!({"id": "r1", "model_name": "echo", "inputs": [
        {"name": "text", "datatype": "BYTES", "shape": [1], "data": ["ab"]},
        {"name": "repeat", "datatype": "INT32", "shape": [1], "data": [3]},
        {"name": "weights", "datatype": "FP32", "shape": [2, 3], "data": [1, 2, 3, 4, 5, 6.5]},
        {"name": "extra", "datatype": "BYTES", "shape": [1], "data": ["{\"a\": 1, \"b\": [2]}"]}
    ]});
    // No Content-Type, as tritonclient sends it.
    let response = infer(
        &server,
        "/v2/models/echo/infer",
        serde_json::to_vec(&request).unwrap(),
        None,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["model_name"], "echo");
    assert_eq!(answer["model_version"], "2.0");
    assert_eq!(answer["id"], "r1");
    let outputs = answer["outputs"].as_array().unwrap();
    let by_name = |name: &str| outputs.iter().find(|o| o["name"] == name).unwrap().clone();
    assert_eq!(
        by_name("text"),
        json!({"name": "text", "datatype": "BYTES", "shape": [1], "data": ["ababab"]})
    );
    assert_eq!(by_name("total")["data"], json!([21.5]));
    assert_eq!(by_name("keys")["datatype"], "BYTES");
    assert_eq!(by_name("keys")["data"], json!(["a", "b"]));
    // Choosing one output, through the version route.
    let request = json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["x"]}],
                         "outputs": [{"name": "text"}]});
    let response = infer(
        &server,
        "/v2/models/echo/versions/2.0/infer",
        serde_json::to_vec(&request).unwrap(),
        None,
    )
    .await;
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["outputs"].as_array().unwrap().len(), 1, "{answer}");
}

#[tokio::test]
async fn binary_inputs_and_outputs_round_trip() {
    let server = TestServer::start(Echo, config()).await;
    let header = json!({"inputs": [
        {"name": "text", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 7}},
        {"name": "repeat", "datatype": "INT64", "shape": [1], "parameters": {"binary_data_size": 8}},
        {"name": "weights", "datatype": "FP64", "shape": [1, 3], "parameters": {"binary_data_size": 24}}
    ], "parameters": {"binary_data_output": true}});
    let mut raw = vec![3, 0, 0, 0, b'x', b'y', b'z'];
    raw.extend_from_slice(&2i64.to_le_bytes());
    for w in [0.5f64, 0.25, 0.25] {
        raw.extend_from_slice(&w.to_le_bytes());
    }
    let (body, len) = binary(&header, &raw);
    let response = infer(&server, "/v2/models/echo/infer", body, Some(len)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/octet-stream");
    let header_len: usize = response.headers()["inference-header-content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = response.bytes().await.unwrap();
    let answer: Value = serde_json::from_slice(&bytes[..header_len]).unwrap();
    let mut rest = &bytes[header_len..];
    let mut seen = Vec::new();
    for output in answer["outputs"].as_array().unwrap() {
        let size = output["parameters"]["binary_data_size"].as_u64().unwrap() as usize;
        let (mine, tail) = rest.split_at(size);
        rest = tail;
        seen.push((output["name"].as_str().unwrap().to_owned(), mine.to_vec()));
    }
    assert!(rest.is_empty());
    let text = seen.iter().find(|(n, _)| n == "text").unwrap();
    assert_eq!(text.1, [6, 0, 0, 0, b'x', b'y', b'z', b'x', b'y', b'z']);
    let total = seen.iter().find(|(n, _)| n == "total").unwrap();
    assert_eq!(f64::from_le_bytes(total.1.clone().try_into().unwrap()), 1.0);
}

#[tokio::test]
async fn bad_requests_are_400s_in_the_protocols_shape_and_the_server_serves_on() {
    let server = TestServer::start(Echo, config()).await;
    let text = json!({"name": "text", "datatype": "BYTES", "shape": [1], "data": ["a"]});
    let cases: Vec<(Vec<u8>, Option<usize>, &str)> = vec![
        (b"not json".to_vec(), None, "not valid"),
        (
            serde_json::to_vec(
                &json!({"inputs": [text, {"name": "repeat", "datatype": "INT64", "shape": [1], "data": [11]}]}),
            )
            .unwrap(),
            None,
            "repeat",
        ),
        (
            serde_json::to_vec(
                &json!({"inputs": [{"name": "nope", "datatype": "BOOL", "shape": [1], "data": [true]}]}),
            )
            .unwrap(),
            None,
            "`nope` is not an input",
        ),
        (
            serde_json::to_vec(
                &json!({"inputs": [{"name": "repeat", "datatype": "FP32", "shape": [1], "data": [1.5]}]}),
            )
            .unwrap(),
            None,
            "`repeat` must be INT64",
        ),
        (
            serde_json::to_vec(
                &json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": ["a"]}]}),
            )
            .unwrap(),
            None,
            "holds 2 elements",
        ),
        (
            serde_json::to_vec(&json!({"inputs": [{"name": "text", "datatype": "NOPE", "shape": [1], "data": ["a"]}]}))
                .unwrap(),
            None,
            "unknown datatype",
        ),
        (
            serde_json::to_vec(&json!({"inputs": [], "outputs": [{"name": "nope"}]})).unwrap(),
            None,
            "text",
        ),
    ];
    for (body, len, needle) in cases {
        let response = infer(&server, "/v2/models/echo/infer", body.clone(), len).await;
        assert_eq!(response.status(), 400, "{}", String::from_utf8_lossy(&body));
        assert_eq!(response.headers()["content-type"], "application/json");
        let error: Value = response.json().await.unwrap();
        let message = error["error"].as_str().unwrap();
        assert!(message.contains(needle), "`{message}` should contain `{needle}`");
    }
    // Binary bodies whose sizes lie.
    let header = json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 64}}]});
    let (body, len) = binary(&header, &[1, 0, 0, 0, b'a']);
    let lying = [
        (body.clone(), Some(len)),
        (body.clone(), Some(body.len() + 10)),
        (body.clone(), Some(3)),
    ];
    for (body, len) in lying {
        assert_eq!(infer(&server, "/v2/models/echo/infer", body, len).await.status(), 400);
    }
    let header = json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1_000_000_000_000u64], "parameters": {"binary_data_size": 5}}]});
    let (body, len) = binary(&header, &[1, 0, 0, 0, b'a']);
    assert_eq!(
        infer(&server, "/v2/models/echo/infer", body, Some(len)).await.status(),
        400
    );
    let response = server
        .http
        .post(format!("{}/v2/models/echo/infer", server.url))
        .header("Inference-Header-Content-Length", "x")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        infer(&server, "/v2/models/other/infer", b"{}".to_vec(), None)
            .await
            .status(),
        404
    );
    let ok = json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["fine"]}]});
    assert_eq!(
        infer(&server, "/v2/models/echo/infer", serde_json::to_vec(&ok).unwrap(), None)
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn infer_needs_the_api_key_when_keys_are_set_and_health_does_not() {
    let mut config = config();
    config.api_keys = ApiKeys::new(["secret-key-1234"]);
    let server = TestServer::start(Echo, config).await;
    assert_eq!(server.get("/v2/health/ready").await.status(), 200);
    assert_eq!(server.get("/v2/models/echo").await.status(), 200);
    let ok = json!({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["a"]}]});
    let body = serde_json::to_vec(&ok).unwrap();
    assert_eq!(
        infer(&server, "/v2/models/echo/infer", body.clone(), None)
            .await
            .status(),
        401
    );
    let keyed = server
        .http
        .post(format!("{}/v2/models/echo/infer", server.url))
        .bearer_auth("secret-key-1234")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(keyed.status(), 200);
}

#[tokio::test]
async fn tritonclient_and_kserve_call_a_json_service() {
    let Some(venv) = std::env::var_os("EASYMLSERVE_TEST_VENV_OIP_CLIENTS") else {
        eprintln!("skipped: EASYMLSERVE_TEST_VENV_OIP_CLIENTS is not set; scripts/test creates it");
        return;
    };
    let server = TestServer::start(PlainEcho, config()).await;
    let driver = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oip/oip_clients.py");
    let output = tokio::process::Command::new(std::path::PathBuf::from(venv).join("bin/python"))
        .arg(driver)
        .args(["--url", &server.url, "--case", "echo"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("ok kserve infer-binary") && stdout.contains("ok tritonclient error"),
        "{stdout}"
    );
}
