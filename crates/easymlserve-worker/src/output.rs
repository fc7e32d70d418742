//! A worker's stdout and stderr in the server's log: one thread per stream copies them line by line,
//! tagged with the worker's number and pid (stdout at info, stderr at warn), and keeps the last lines
//! of stderr to explain a worker that died.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The stderr lines kept to explain a worker that died.
pub(crate) const STDERR_TAIL: usize = 20;

/// Copies a child's output into the log line by line (stdout at info, stderr at warn, keeping the
/// last lines of stderr in `tail`).
pub(crate) fn copy_lines(
    output: impl Read + Send + 'static,
    worker: usize,
    pid: u32,
    tail: Option<Arc<Mutex<VecDeque<String>>>>,
) -> Option<JoinHandle<()>> {
    let stream = if tail.is_some() { "stderr" } else { "stdout" };
    std::thread::Builder::new()
        .name(format!("easymlserve-worker-{worker}-{stream}"))
        .spawn(move || {
            let mut reader = BufReader::new(output);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                match &tail {
                    Some(tail) => {
                        tracing::warn!(worker, pid, stream, "{text}");
                        let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
                        if tail.len() == STDERR_TAIL {
                            tail.pop_front();
                        }
                        tail.push_back(text.to_owned());
                    }
                    None => tracing::info!(worker, pid, stream, "{text}"),
                }
            }
        })
        .ok()
}

/// Waits up to `limit` for the output copiers to reach the end of the child's output.
pub(crate) fn wait_for_copiers(copiers: &[JoinHandle<()>], limit: Duration) {
    let started = Instant::now();
    while started.elapsed() < limit && !copiers.iter().all(JoinHandle::is_finished) {
        std::thread::sleep(Duration::from_millis(5));
    }
}
