//! Measures the web GUI's plots in headless Chromium (issue 18 item 2): a year of hourly data
//! (8,760 points x 4 series) and a 100,000-point series, each drawn by the page's own `plot.js` from
//! a real submission. `probe.js`, installed into the page, records per round:
//!
//! - `EmsPlot.create` (the whole draw: sort, thin to the pixel width, build the SVG) and the time until
//!   the frame after it is on screen; submit (Enter in the form) to that frame, server included;
//! - the longest main-thread task and the longest animation frame (tasks plus style, layout and
//!   paint) of the round, from PerformanceObserver: the longest any input could have waited;
//! - a key pressed every 25 ms from the submit on, through the answer and its draw: each key's time
//!   from its event time stamp to the frame that shows it (the worst key of the round is kept);
//! - 30 pointer moves across the drawn plot (WebDriver actions): each move to the frame with its
//!   tooltip; then 15 keys on the idle page with the plot on it.
//!
//! Speed figures only: that the thinning keeps the extremes and hover shows the right value is tested
//! in examples/load-forecasting/tests/plot_colours.rs. Run: `cargo run -p plot-draw -- [rounds]` (the
//! figures are the browser's; the server's build profile only shows in "submit to frame").

mod service;

use std::time::Duration;

use easymlserve::prelude::*;
use easymlserve_testkit::{Browser, serve};
use fantoccini::actions::{InputSource, KeyAction, KeyActions, MouseActions, PointerAction};
use serde_json::Value;

const PROBE: &str = include_str!("probe.js");
const ENTER: char = '\u{E007}';

/// Every round's figures of one case, in milliseconds.
#[derive(Default)]
struct Figures {
    create: Vec<f64>,
    painted: Vec<f64>,
    submit_to_frame: Vec<f64>,
    longest_task: Vec<f64>,
    longest_frame: Vec<f64>,
    worst_key: Vec<f64>,
    keys_during_draw: usize,
    keys: usize,
    hover: Vec<f64>,
    hover_shown: usize,
    idle_key: Vec<f64>,
    points: f64,
    drawn: f64,
}

fn num(value: &Value, key: &str) -> f64 {
    value[key].as_f64().unwrap_or(f64::NAN)
}

fn list<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value[key].as_array().into_iter().flatten()
}

fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = ((sorted.len().max(1) - 1) as f64 * q).round() as usize;
    sorted.get(at).copied().unwrap_or(f64::NAN)
}

fn median_max(values: &[f64]) -> String {
    format!("{:.1} ({:.1})", quantile(values, 0.5), quantile(values, 1.0))
}

/// Like [`median_max`] for long tasks and frames: 0 (none over 50 ms in the round) shows as "-".
fn over_50(values: &[f64]) -> String {
    let show = |v: f64| if v > 0.0 { format!("{v:.1}") } else { "-".to_owned() };
    format!("{} ({})", show(quantile(values, 0.5)), show(quantile(values, 1.0)))
}

async fn probe(browser: &Browser) -> Value {
    browser.js("return window.__bench;").await
}

async fn perform(browser: &Browser, actions: impl Into<fantoccini::actions::Actions>) {
    browser
        .client
        .perform_actions(actions)
        .await
        .unwrap_or_else(|e| panic!("input actions not sent: {e}"));
}

/// Submits `case` by Enter in the Note input, typing on through the draw; then hovers and types.
async fn round(browser: &Browser, case: &str, figures: &mut Figures) {
    browser
        .js(&format!(
            "const b = window.__bench; b.creates = []; b.keys = []; b.hovers = []; b.submits = [];\
             document.querySelector('#status').textContent = '';\
             const s = document.querySelector('#in-case'); s.value = '{case}';\
             s.dispatchEvent(new Event('change', {{ bubbles: true }}));\
             const n = document.querySelector('#in-note'); n.value = ''; n.focus();"
        ))
        .await;
    let mut keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: ENTER })
        .then(KeyAction::Up { value: ENTER });
    for _ in 0..40 {
        keys = keys
            .pause(Duration::from_millis(25))
            .then(KeyAction::Down { value: 'a' })
            .then(KeyAction::Up { value: 'a' });
    }
    perform(browser, keys).await;
    browser.wait_for_text("#status", "Done in").await;
    let mut bench = probe(browser).await;
    for _ in 0..100 {
        let keys_shown = list(&bench, "keys").all(|k| k["painted"].is_number());
        if bench["creates"][0]["painted"].is_number() && keys_shown {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        bench = probe(browser).await;
    }
    let created = &bench["creates"][0];
    let submitted = bench["submits"][0].as_f64().unwrap_or(f64::NAN);
    let (draw_start, draw_time) = (num(created, "start"), num(created, "painted"));
    figures.create.push(num(created, "create"));
    figures.painted.push(draw_time);
    figures.submit_to_frame.push(draw_start + draw_time - submitted);
    figures.points = num(created, "points");
    figures.drawn = num(created, "drawn");
    // A key "during the draw" was pressed before the plot's frame was out and shown after the draw
    // began.
    let mut worst: f64 = 0.0;
    for key in list(&bench, "keys").filter(|k| k["key"] == "a") {
        let (at, painted) = (num(key, "at"), num(key, "painted"));
        worst = worst.max(painted);
        figures.keys += 1;
        figures.keys_during_draw += usize::from(at <= draw_start + draw_time && at + painted >= draw_start);
    }
    figures.worst_key.push(worst);

    // Hover: 30 moves across the plot's hit area, 30 ms apart.
    let area = browser
        .js(
            "const r = document.querySelector('#out-plot svg rect[cursor=crosshair]');\
             r.scrollIntoView({ block: 'center' }); const b = r.getBoundingClientRect();\
             window.__bench.hovers = []; return [b.left, b.top, b.width, b.height];",
        )
        .await;
    let area: Vec<f64> = area
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_f64)
        .collect();
    let (left, top, width, height) = (area[0], area[1], area[2], area[3]);
    let mut mouse = MouseActions::new("mouse".to_owned());
    for i in 0..30 {
        let x = (left + width * (f64::from(i) + 0.5) / 30.0).round();
        let y = (top + height / 2.0).round();
        mouse = mouse
            .then(PointerAction::MoveTo {
                duration: Some(Duration::ZERO),
                x,
                y,
            })
            .pause(Duration::from_millis(30));
    }
    perform(browser, mouse).await;

    // Keys on the idle page.
    browser
        .js("window.__bench.keys = []; document.querySelector('#in-note').focus();")
        .await;
    let mut keys = KeyActions::new("keyboard".to_owned());
    for _ in 0..15 {
        keys = keys
            .then(KeyAction::Down { value: 'b' })
            .then(KeyAction::Up { value: 'b' })
            .pause(Duration::from_millis(30));
    }
    perform(browser, keys).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let bench = probe(browser).await;
    for hover in list(&bench, "hovers") {
        figures.hover.push(num(hover, "painted"));
        figures.hover_shown += usize::from(hover["tip"].as_str().is_some_and(|t| !t.is_empty()));
    }
    figures.idle_key.extend(list(&bench, "keys").map(|k| num(k, "painted")));
    let longest = |entries: &str| {
        list(&bench, entries)
            .filter(|t| num(t, "start") >= submitted - 1.0)
            .map(|t| num(t, "duration"))
            .fold(0.0, f64::max)
    };
    figures.longest_task.push(longest("tasks"));
    figures.longest_frame.push(longest("frames"));
}

type Measure = fn(&Figures) -> String;

const MEASURES: [(&str, Measure); 10] = [
    ("points in the plot, drawn", |f| {
        format!("{:.0}, {:.0}", f.points, f.drawn)
    }),
    ("EmsPlot.create", |f| median_max(&f.create)),
    ("create to its frame on screen", |f| median_max(&f.painted)),
    ("submit to that frame (server included)", |f| {
        median_max(&f.submit_to_frame)
    }),
    ("longest task", |f| over_50(&f.longest_task)),
    ("longest animation frame", |f| over_50(&f.longest_frame)),
    ("slowest key of a round, key to frame", |f| median_max(&f.worst_key)),
    ("keys pressed during the draw", |f| {
        format!("{} of {}", f.keys_during_draw, f.keys)
    }),
    ("hover: pointer move to frame", |f| {
        format!(
            "{} ({} of {} with a tooltip)",
            median_max(&f.hover),
            f.hover_shown,
            f.hover.len()
        )
    }),
    ("key to frame after the draw", |f| median_max(&f.idle_key)),
];

async fn run(rounds: usize) {
    let url = serve(Server::new(service::Plots).with_ui(service::PlotsUi)).await;
    let browser = Browser::start(1280, 1000).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    browser.js(PROBE).await;
    let agent = browser.js("return navigator.userAgent;").await;
    let mut year = Figures::default();
    let mut long = Figures::default();
    // One warm-up round of each, then alternate.
    round(&browser, "year", &mut Figures::default()).await;
    round(&browser, "long", &mut Figures::default()).await;
    for _ in 0..rounds {
        round(&browser, "year", &mut year).await;
        round(&browser, "long", &mut long).await;
    }
    browser.close().await;

    println!("{}", agent.as_str().unwrap_or_default());
    println!("{rounds} rounds per case; milliseconds, median (max) over the rounds; - = nothing over 50 ms\n");
    println!("| measure | 8,760 x 4, time axis | 100,000 x 1 |\n|---|---:|---:|");
    for (measure, figure) in MEASURES {
        println!("| {measure} | {} | {} |", figure(&year), figure(&long));
    }
}

fn main() {
    let rounds = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("no runtime: {e}"));
    runtime.block_on(run(rounds));
}
