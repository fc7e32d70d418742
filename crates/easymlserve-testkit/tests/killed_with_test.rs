//! The testkit's guards start their processes so that the kernel kills them when the starting thread
//! ends: a test that nextest kills for its timeout never runs its guards' `Drop`, and must still leave
//! no `redis-server`, nginx or replica behind. Shown with a real `redis-server` whose guard is
//! forgotten (as a killed test's would be) on a thread that then ends.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use easymlserve_testkit::Redis;

#[test]
fn a_redis_whose_guard_never_drops_ends_with_the_thread_that_started_it() {
    let port = std::thread::spawn(|| {
        let redis = Redis::start();
        let port = redis.port();
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_ok(),
            "not up while its thread lives"
        );
        std::mem::forget(redis);
        port
    })
    .join()
    .unwrap();
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_ok() {
        if started.elapsed() > Duration::from_secs(10) {
            // Not killed: stop it here so the failure leaves nothing behind either.
            let _ = Command::new("redis-cli")
                .args(["-p", &port.to_string(), "shutdown", "nosave"])
                .status();
            panic!("redis-server on port {port} outlived the thread that started it");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
