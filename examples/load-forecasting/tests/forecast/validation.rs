//! Every request the original answered with 500 (or took silently) is refused here with 422, naming
//! the field and the problem.

use serde_json::{Value, json};

use crate::util::{request_from_csv, sample, serve_tiny};

/// Hours `0..n` of 2019-01-01 as `2019-01-01T00:00:00Z`... with a load of 50,000 MW.
fn hours(n: usize) -> (Vec<String>, Vec<Value>) {
    let time = (0..n)
        .map(|h| format!("2019-01-{:02}T{:02}:00:00Z", 1 + h / 24, h % 24))
        .collect();
    (time, vec![json!(50_000.0); n])
}

fn request(time: Vec<String>, energy: Vec<Value>) -> Value {
    json!({"models": ["LR", "RF"], "time": time, "energy": energy})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_is_a_422_that_names_the_field() {
    let url = serve_tiny().await;
    let (time, energy) = hours(30);
    let mut cases: Vec<(&str, Value, &str, &str)> = Vec::new();

    let (short_t, short_e) = hours(23);
    cases.push((
        "fewer than 24 rows",
        request(short_t, short_e),
        "time",
        "`time` needs at least 24 items, got 23",
    ));
    cases.push((
        "lengths differ",
        request(time.clone(), energy[..29].to_vec()),
        "energy",
        "has 29 values but `time` has 30 timestamps",
    ));
    let mut with_null = energy.clone();
    with_null[7] = Value::Null;
    cases.push((
        "a null load",
        request(time.clone(), with_null),
        "energy[7]",
        "is missing (null or NaN) at `2019-01-01T07:00:00Z`",
    ));
    cases.push((
        "an unknown model",
        json!({"models": ["LR", "XGB"], "time": time, "energy": energy}),
        "models[1]",
        "must be one of \"LR\", \"SVR\", \"RF\", got \"XGB\"",
    ));
    cases.push((
        "a model twice",
        json!({"models": ["RF", "RF"], "time": time, "energy": energy}),
        "models[1]",
        "`RF` is listed twice",
    ));
    cases.push((
        "no model",
        json!({"models": [], "time": time, "energy": energy}),
        "models",
        "needs at least 1 items, got 0",
    ));
    let mut garbled = time.clone();
    garbled[3] = "yesterday noon".to_owned();
    cases.push((
        "an unparsable timestamp",
        request(garbled, energy.clone()),
        "time[3]",
        "`yesterday noon` is not a date and time",
    ));
    let mut unsorted = time.clone();
    unsorted.swap(10, 11);
    cases.push((
        "unsorted timestamps",
        request(unsorted, energy.clone()),
        "time[11]",
        "`2019-01-01T10:00:00Z` is not after the previous timestamp `2019-01-01T11:00:00Z`",
    ));
    let mut repeated = time.clone();
    repeated[5] = repeated[4].clone();
    cases.push((
        "a repeated hour",
        request(repeated, energy.clone()),
        "time[5]",
        "is not after the previous timestamp",
    ));
    let (long_t, long_e) = hours(31);
    let mut gap = long_t.clone();
    gap.remove(12);
    cases.push((
        "a missing hour",
        request(gap, long_e[..30].to_vec()),
        "time[12]",
        "`2019-01-01T13:00:00Z` is 2 hours after the previous timestamp `2019-01-01T11:00:00Z`; the series must be hourly without gaps",
    ));
    let mut half_hour = time.clone();
    half_hour[20] = "2019-01-01T19:30:00Z".to_owned();
    cases.push((
        "a half-hour step",
        request(half_hour, energy.clone()),
        "time[20]",
        "is 30 minutes after the previous timestamp",
    ));
    cases.push((
        "a load that is not a number",
        request(time.clone(), {
            let mut e = energy.clone();
            e[2] = json!("lots");
            e
        }),
        "energy[2]",
        "must be a number or null, got a string",
    ));

    let http = reqwest::Client::new();
    for (what, body, field, message) in cases {
        let answer = http.post(format!("{url}/process")).json(&body).send().await.unwrap();
        assert_eq!(answer.status(), 422, "{what}");
        let error: Value = answer.json().await.unwrap();
        assert_eq!(error["field"], field, "{what}: {error}");
        let text = error["error"].as_str().unwrap();
        assert!(text.contains(message), "{what}: {text:?} does not say {message:?}");
        assert!(
            text.contains(&format!("`{field}`")),
            "{what}: {text:?} does not name `{field}`"
        );
    }

    // JSON has no NaN: a bare `NaN` token is not JSON at all, so it is a 400 for the malformed body.
    let text = serde_json::to_string(&request(time, energy))
        .unwrap()
        .replacen("50000.0", "NaN", 1);
    let answer = http
        .post(format!("{url}/process"))
        .header("content-type", "application/json")
        .body(text)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);

    // And a good request still works after all that.
    let ok = http
        .post(format!("{url}/process"))
        .json(&request_from_csv(&sample("2019-02.csv"), &["SVR"]))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}
