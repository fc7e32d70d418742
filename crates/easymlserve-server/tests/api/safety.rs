//! Safe defaults and slow clients: the server binds loopback, sends no CORS headers unless origins are
//! listed, and cuts off a client that dribbles its body with 408 without tying up a model worker.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::time::{Duration, Instant};

use easymlserve_server::{CorsOrigins, ServeArgs, ServerConfig};
use serde_json::json;

use crate::util::{TestServer, TestService, config};

#[test]
fn defaults_bind_loopback_with_cors_and_keys_off() {
    let cfg = ServeArgs::default().apply(ServerConfig::default()).unwrap();
    assert_eq!(cfg.host, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert!(!cfg.cors_origins.is_enabled());
    assert_eq!(cfg.read_timeout, Duration::from_secs(30));
}

/// Sends a `/process` request whose body goes out one byte every `gap`; returns the whole answer.
fn dribble(addr: &str, gap: Duration) -> String {
    let body = br#"{"text": "slow client ......................................"}"#;
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST /process HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let feeder = std::thread::spawn(move || {
        for byte in body {
            std::thread::sleep(gap);
            if writer.write_all(&[*byte]).is_err() {
                break;
            }
        }
    });
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let _ = feeder.join();
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_sent_a_byte_at_a_time_is_cut_off_without_holding_a_worker() {
    let cfg = ServerConfig {
        workers: 1,
        read_timeout: Duration::from_millis(800),
        ..config()
    };
    let server = TestServer::start(TestService::default(), cfg).await;
    let addr = server.url.trim_start_matches("http://").to_owned();
    let started = Instant::now();
    let slow = tokio::task::spawn_blocking(move || dribble(&addr, Duration::from_millis(100)));
    // While the slow client dribbles, the only worker answers others at once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let quick = Instant::now();
    let answer = server.process(json!({"text": "fast"})).await;
    assert_eq!(answer.status(), 200);
    assert!(
        quick.elapsed() < Duration::from_millis(500),
        "took {:?}",
        quick.elapsed()
    );
    let answer = slow.await.unwrap();
    let elapsed = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains(r#""error_type":"request_timeout""#), "{answer}");
    assert!(answer.contains("0.8 s"), "{answer}");
    assert!(
        elapsed >= Duration::from_millis(800) && elapsed < Duration::from_secs(5),
        "cut off after {elapsed:?}"
    );
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("status=\"408\"} 1"), "{metrics}");
}

#[tokio::test]
async fn cors_headers_only_for_listed_origins() {
    let preflight = |server: &TestServer, origin: &str| {
        server
            .http
            .request(reqwest::Method::OPTIONS, format!("{}/process", server.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let post = |server: &TestServer, origin: &str| {
        server
            .http
            .post(format!("{}/process", server.url))
            .header("origin", origin)
            .json(&json!({"text": "x"}))
            .send()
    };
    let closed = TestServer::start(TestService::default(), config()).await;
    let answer = preflight(&closed, "https://lab.example").await.unwrap();
    assert_ne!(answer.status(), 200);
    assert!(answer.headers().get("access-control-allow-origin").is_none());
    let answer = post(&closed, "https://lab.example").await.unwrap();
    assert_eq!(answer.status(), 200, "the API itself still answers");
    assert!(answer.headers().get("access-control-allow-origin").is_none());

    let cfg = ServerConfig {
        cors_origins: CorsOrigins::parse_list("https://lab.example/, http://localhost:3000"),
        ..config()
    };
    let open = TestServer::start(TestService::default(), cfg).await;
    let answer = preflight(&open, "https://lab.example").await.unwrap();
    assert_eq!(answer.status(), 200);
    let headers = answer.headers();
    assert_eq!(headers["access-control-allow-origin"], "https://lab.example");
    assert!(
        headers["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("content-type")
    );
    let answer = post(&open, "http://localhost:3000").await.unwrap();
    assert_eq!(answer.headers()["access-control-allow-origin"], "http://localhost:3000");
    for stranger in ["https://evil.example", "https://lab.example.evil.example", "null"] {
        let answer = post(&open, stranger).await.unwrap();
        assert!(
            answer.headers().get("access-control-allow-origin").is_none(),
            "{stranger}"
        );
        let answer = preflight(&open, stranger).await.unwrap();
        assert!(
            answer.headers().get("access-control-allow-origin").is_none(),
            "{stranger}"
        );
    }
}

#[test]
fn read_timeout_and_cors_flags_layer_over_the_config() {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }
    let cli = Cli::parse_from([
        "x",
        "--read-timeout-secs",
        "2.5",
        "--cors-origins",
        "https://a.example,https://b.example",
    ]);
    let cfg = cli.serve.apply(ServerConfig::default()).unwrap();
    assert_eq!(cfg.read_timeout, Duration::from_millis(2500));
    assert_eq!(cfg.cors_origins.origins(), ["https://a.example", "https://b.example"]);
    let zero = Cli::parse_from(["x", "--read-timeout-secs", "0"])
        .serve
        .apply(ServerConfig::default());
    assert!(zero.unwrap_err().to_string().contains("read_timeout"));
}
