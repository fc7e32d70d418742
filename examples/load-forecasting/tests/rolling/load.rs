//! A bounded load through the balancer: a fixed number of requests at a fixed concurrency, mixing
//! `POST /process`, the web GUI's `POST /ui/submit`, async jobs (`Prefer: respond-async`, then
//! followed by polling or by the event stream) and the GUI's own jobs (`POST /ui/jobs`, then its event
//! stream, which the balancer may send to another replica: no sticky sessions). Every answer is compared with a reference answer taken
//! from one replica directly, exact JSON equality; anything else is counted as a failure with why.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The shipped month the requests are cut from.
const SAMPLE: &str = "2019-01.csv";
/// Hours per request: a week, so the load is many small requests rather than a few long ones.
const HOURS: usize = 168;
/// The models the requests ask for.
const MODELS: [&str; 2] = ["LR", "RF"];

/// The three kinds of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Process,
    Gui,
    Job,
    GuiJob,
}

impl Kind {
    fn of(i: usize) -> Self {
        [Self::Process, Self::Gui, Self::Job, Self::GuiJob][i % 4]
    }
}

/// The request in both shapes and the answers one replica gave to them.
pub struct Reference {
    /// The request as the GUI uploads it.
    pub csv: String,
    /// The `/process` body.
    pub body: Value,
    /// The `/process` answer.
    pub answer: Value,
    /// The `/ui/submit` answer without its timing.
    pub gui: Value,
}

/// The CSV (`time,energy`, a week) and the JSON request made from it.
fn request() -> (String, Value) {
    let text = std::fs::read_to_string(crate::util::sample(SAMPLE)).unwrap();
    let csv: String = text.lines().take(HOURS + 1).map(|l| format!("{l}\n")).collect();
    let (mut time, mut energy) = (Vec::new(), Vec::new());
    for line in csv.lines().skip(1) {
        let (t, e) = line.split_once(',').unwrap();
        time.push(t.to_owned());
        energy.push(e.parse::<f64>().unwrap());
    }
    let body = serde_json::json!({"models": MODELS, "time": time, "energy": energy});
    (csv, body)
}

/// The GUI's form as the page sends it: one part per chosen model, the CSV as a file.
pub fn gui_form(csv: &str) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for model in MODELS {
        form = form.text("models", model);
    }
    let file = reqwest::multipart::Part::bytes(csv.as_bytes().to_vec())
        .file_name("week.csv")
        .mime_str("text/csv")
        .unwrap();
    form.part("csv", file)
}

/// What the GUI answered, without the time it took.
pub fn untimed(mut answer: Value) -> Value {
    if let Some(object) = answer.as_object_mut() {
        object.remove("elapsed_ms");
    }
    answer
}

impl Reference {
    /// Asks the replica at `url` directly.
    pub async fn from(url: &str) -> Self {
        let http = reqwest::Client::new();
        let (csv, body) = request();
        let answer = http.post(format!("{url}/process")).json(&body).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let answer: Value = answer.json().await.unwrap();
        assert_eq!(
            answer["forecasts"].as_array().map(Vec::len),
            Some(MODELS.len()),
            "{answer}"
        );
        let gui = http
            .post(format!("{url}/ui/submit"))
            .multipart(gui_form(&csv))
            .send()
            .await
            .unwrap();
        assert_eq!(gui.status(), 200);
        let gui = untimed(gui.json().await.unwrap());
        assert!(gui["outputs"].as_array().is_some_and(|o| !o.is_empty()), "{gui}");
        Self { csv, body, answer, gui }
    }
}

/// What the load saw.
#[derive(Debug, Default)]
pub struct Tally {
    /// Correct answers per kind: process, GUI, job, GUI job.
    pub ok: [usize; 4],
    /// Requests that failed, each with why (status and body, or the connection error).
    pub failures: Vec<String>,
    /// Jobs that ended `job_lost` (their replica died), each resubmitted.
    pub lost: Vec<String>,
    /// Resubmitted lost jobs that then finished correctly.
    pub resubmitted_ok: usize,
    /// The path of every job that finished correctly.
    pub jobs: Vec<String>,
    /// Requests that ended while `disrupted` was set (a restart or a kill going on).
    pub during_disruption: usize,
    /// How long the whole load took.
    pub took: Duration,
}

impl Tally {
    /// All requests answered correctly.
    pub fn answered(&self) -> usize {
        self.ok.iter().sum()
    }
}

/// What the test and the load share while it runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Set while a restart or a kill is going on.
    pub disrupted: AtomicBool,
    /// Requests ended so far, well or not.
    pub done: AtomicUsize,
}

impl Progress {
    /// Waits until `n` requests have ended.
    pub async fn wait_done(&self, n: usize) {
        let started = Instant::now();
        while self.done.load(Ordering::Relaxed) < n {
            assert!(started.elapsed() < Duration::from_secs(120), "the load stalled");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Sends `total` requests through `base`, `concurrency` at a time.
pub async fn run(
    base: String,
    total: usize,
    concurrency: usize,
    reference: Arc<Reference>,
    progress: Arc<Progress>,
) -> Tally {
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, next, tally) = (http.clone(), Arc::clone(&next), Arc::clone(&tally));
        let (reference, progress, base) = (Arc::clone(&reference), Arc::clone(&progress), base.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let kind = Kind::of(i);
                let outcome = one(&http, &base, kind, i, &reference).await;
                let mut tally = tally.lock().unwrap();
                if progress.disrupted.load(Ordering::Relaxed) {
                    tally.during_disruption += 1;
                }
                progress.done.fetch_add(1, Ordering::Relaxed);
                match outcome {
                    Ok(Done::Answer) => tally.ok[kind as usize] += 1,
                    Ok(Done::Job(path)) => {
                        tally.ok[kind as usize] += 1;
                        tally.jobs.push(path);
                    }
                    Ok(Done::Resubmitted { lost, job }) => {
                        tally.ok[kind as usize] += 1;
                        tally.lost.push(lost);
                        tally.resubmitted_ok += 1;
                        tally.jobs.push(job);
                    }
                    Err(why) => tally.failures.push(format!("request {i} ({kind:?}): {why}")),
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut tally = Arc::try_unwrap(tally).unwrap().into_inner().unwrap();
    tally.took = started.elapsed();
    tally
}

/// How a request ended well.
enum Done {
    /// The correct answer.
    Answer,
    /// A job that finished with the correct result, at this path.
    Job(String),
    /// A job that ended `job_lost`, submitted again, and then finished correctly.
    Resubmitted { lost: String, job: String },
}

/// How a followed job ended well.
pub enum Followed {
    Succeeded(String),
    Lost(String),
}

/// Request number `i` of kind `kind`, checked against `reference`.
async fn one(http: &reqwest::Client, base: &str, kind: Kind, i: usize, reference: &Reference) -> Result<Done, String> {
    match kind {
        Kind::Process => {
            let answer = http.post(format!("{base}/process")).json(&reference.body).send().await;
            let answer = json_of(answer, 200).await?;
            same(&answer, &reference.answer)?;
            Ok(Done::Answer)
        }
        Kind::Gui => {
            let form = gui_form(&reference.csv);
            let answer = http.post(format!("{base}/ui/submit")).multipart(form).send().await;
            let answer = untimed(json_of(answer, 200).await?);
            same(&answer, &reference.gui)?;
            Ok(Done::Answer)
        }
        Kind::Job | Kind::GuiJob => {
            let follow = async || match kind {
                Kind::Job => submit_and_follow(http, base, i, reference).await,
                _ => gui_job(http, base, reference).await,
            };
            match follow().await? {
                Followed::Succeeded(job) => Ok(Done::Job(job)),
                Followed::Lost(lost) => match follow().await? {
                    Followed::Succeeded(job) => Ok(Done::Resubmitted { lost, job }),
                    Followed::Lost(again) => Err(format!("{lost} was lost, and then {again} too")),
                },
            }
        }
    }
}

/// Submits the GUI's form as a job, as the page does, and reads the job's GUI event stream to its
/// end: its `outputs` must be what `/ui/submit` answers. Returns the job's `/jobs/{id}` path.
pub async fn gui_job(http: &reqwest::Client, base: &str, reference: &Reference) -> Result<Followed, String> {
    let form = gui_form(&reference.csv);
    let submitted = json_of(http.post(format!("{base}/ui/jobs")).multipart(form).send().await, 200).await?;
    let id = submitted["job"]
        .as_str()
        .ok_or(format!("/ui/jobs answered {submitted}"))?;
    let stream = format!("{base}/ui/jobs/{id}/events");
    let events = http.get(&stream).send().await;
    let events = events.map_err(|e| format!("{stream}: connection error: {e}"))?;
    if events.status() != 200 {
        let status = events.status();
        return Err(format!(
            "{stream}: {status} {}",
            events.text().await.unwrap_or_default()
        ));
    }
    let text = events.text().await.map_err(|e| format!("{stream}: {e}"))?;
    let path = format!("/jobs/{id}");
    match last_event(&text) {
        Some((name, data)) if name == "outputs" => {
            same(&untimed(data), &reference.gui).map_err(|e| format!("{stream}: {e}"))?;
            Ok(Followed::Succeeded(path))
        }
        Some((name, data)) if name == "error" && data["error_type"] == "job_lost" => Ok(Followed::Lost(path)),
        last => Err(format!("{stream} ended with {last:?}")),
    }
}

/// Submits the reference request as a job and follows it to its end: even requests poll its state,
/// odd ones read its event stream (through nginx, unbuffered) and then its state.
async fn submit_and_follow(
    http: &reqwest::Client,
    base: &str,
    i: usize,
    reference: &Reference,
) -> Result<Followed, String> {
    let submitted = http
        .post(format!("{base}/process"))
        .header("prefer", "respond-async")
        .json(&reference.body)
        .send()
        .await
        .map_err(|e| format!("submit: connection error: {e}"))?;
    if submitted.status() != 202 {
        let status = submitted.status();
        return Err(format!(
            "submit: {status} {}",
            submitted.text().await.unwrap_or_default()
        ));
    }
    let path = submitted
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .ok_or("submit: no Location")?
        .to_owned();
    if i % 2 == 1 {
        let events = http.get(format!("{base}{path}/events")).send().await;
        let events = events.map_err(|e| format!("{path}/events: connection error: {e}"))?;
        if events.status() != 200 {
            return Err(format!("{path}/events: {}", events.status()));
        }
        let text = events.text().await.map_err(|e| format!("{path}/events: {e}"))?;
        let last = last_event(&text).ok_or_else(|| format!("{path}/events: no event in {text:?}"))?;
        match last.0.as_str() {
            "result" => same(&last.1, &reference.answer).map_err(|e| format!("{path}/events: {e}"))?,
            "error" if last.1["error_type"] == "job_lost" => return Ok(Followed::Lost(path)),
            _ => return Err(format!("{path}/events ended with {} {}", last.0, last.1)),
        }
    }
    let started = Instant::now();
    loop {
        let state = json_of(http.get(format!("{base}{path}")).send().await, 200).await?;
        match state["status"].as_str() {
            Some("succeeded") => {
                same(&state["result"], &reference.answer).map_err(|e| format!("{path}: {e}"))?;
                return Ok(Followed::Succeeded(path));
            }
            Some("failed") if state["error"]["error_type"] == "job_lost" => return Ok(Followed::Lost(path)),
            Some("queued" | "running") if started.elapsed() < Duration::from_secs(60) => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            _ => return Err(format!("{path} ended as {state}")),
        }
    }
}

/// The body of a response with status `wanted`, or why not.
async fn json_of(response: reqwest::Result<reqwest::Response>, wanted: u16) -> Result<Value, String> {
    let response = response.map_err(|e| format!("connection error: {e}"))?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| format!("{status}, body cut: {e}"))?;
    if status != wanted {
        return Err(format!("{status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{status}, not JSON ({e}): {text}"))
}

fn same(got: &Value, wanted: &Value) -> Result<(), String> {
    if got == wanted {
        Ok(())
    } else {
        Err(format!("wrong answer: {got}"))
    }
}

/// The last (event name, data) of a Server-Sent Events text.
pub fn last_event(text: &str) -> Option<(String, Value)> {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event:"))?.trim();
            let data = block.lines().find_map(|l| l.strip_prefix("data:"))?.trim();
            Some((name.to_owned(), serde_json::from_str(data).ok()?))
        })
        .last()
}
