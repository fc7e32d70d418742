//! The gallery's media page in headless Chromium: Chromium's fake camera feeds the Camera input and the
//! frame's size reaches the service; without mediaDevices the input becomes an image picker and says
//! so; a spreadsheet block pasted into the table fills rows and columns, arrow keys move between rows,
//! and a bad cell is reported under the table naming its column and row; a WAV and a FLAC made here
//! and a recording from the fake microphone reach the service at their rate and length, and the
//! echoed sound plays (its audio element has a duration) next to its waveform.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

#[path = "../../../crates/easymlserve-ui/tests/support/flac.rs"]
mod flac;

use std::path::PathBuf;
use std::time::Duration;

use easymlserve::prelude::*;
use easymlserve::ui::AudioValue;
use easymlserve_testkit::{Browser, serve};
use fantoccini::Locator;
use fantoccini::key::Key;

const FAKE_MEDIA: [&str; 2] = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"];

fn media_page() -> Server<ui_gallery::MediaLab> {
    Server::new(ui_gallery::MediaLab).with_ui(ui_gallery::MediaUi)
}

/// Files made for one test, in a folder removed at the end.
struct Files(PathBuf);

impl Files {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ui-gallery-media-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sine(frames: usize, channels: usize, rate: f32) -> Vec<f32> {
    (0..frames * channels)
        .map(|i| (((i / channels) as f32) * 440.0 * std::f32::consts::TAU / rate).sin() * 0.4)
        .collect()
}

/// Pastes `text` into the element `css` as a clipboard paste would.
async fn paste(browser: &Browser, css: &str, text: &str) {
    let script = format!(
        "const el = document.querySelector({css:?}); el.focus(); const dt = new DataTransfer(); \
         dt.setData('text/plain', {text:?}); \
         el.dispatchEvent(new ClipboardEvent('paste', {{clipboardData: dt, bubbles: true, cancelable: true}}));"
    );
    browser.js(&script).await;
}

async fn submit(browser: &Browser) -> String {
    browser.js("document.getElementById('status').textContent = ''").await;
    browser.click("#submit").await;
    for _ in 0..300 {
        let status = browser.text("#status").await;
        if status.contains("Done in") {
            return browser.text("#out-summary pre").await;
        }
        if status.contains("Failed") {
            let errors = browser
                .js("return [...document.querySelectorAll('.error, #banner')].map(e => e.textContent).join(' | ')")
                .await;
            panic!("the submit failed: {errors}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no answer");
}

/// Polls the played sound's duration until the audio element has read it.
async fn echo_duration(browser: &Browser) -> f64 {
    for _ in 0..100 {
        let d = browser
            .js("const a = document.querySelector('#out-echo audio'); return a ? a.duration : null;")
            .await;
        if let Some(d) = d.as_f64().filter(|d| d.is_finite() && *d > 0.0) {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the echoed sound never had a duration");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_camera_a_pasted_table_and_wav_flac_and_a_recording_reach_the_service() {
    let url = serve(media_page()).await;
    let files = Files::new("all");
    let browser = Browser::start_with_args(1280, 1600, &FAKE_MEDIA).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(browser.text("#title").await, "Media gallery");

    // The camera: start, wait for frames, take a picture.
    browser.click("#in-photo").await;
    browser.wait_for("#field-photo .camera-take:not([hidden])").await;
    for _ in 0..100 {
        let w = browser
            .js("return document.querySelector('#field-photo video').videoWidth")
            .await;
        if w.as_u64().unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.click("#field-photo .camera-take").await;
    let note = browser
        .wait_for_text("#field-photo .camera-note", "Picture taken")
        .await;
    let size = note
        .trim_start_matches("Picture taken: ")
        .trim_end_matches(" px.")
        .to_owned();
    let (w, h) = size.split_once(" x ").unwrap();
    assert!(w.parse::<u32>().unwrap() > 0 && h.parse::<u32>().unwrap() > 0, "{note}");
    assert_eq!(browser.count("#field-photo img.camera-shot:not([hidden])").await, 1);

    // The table: its two initial rows replaced by a pasted block of three, one row longer.
    assert_eq!(browser.count("#in-measurements tbody tr").await, 2);
    paste(
        &browser,
        "#in-measurements [data-row='0'][data-col='0']",
        "Ulm\t3\t1.5\tyes\nHamm\t4\t2\t\nJena\t5\t10\tno\n",
    )
    .await;
    assert_eq!(browser.count("#in-measurements tbody tr").await, 3);
    let cell = browser
        .client
        .find(Locator::Css("#in-measurements [data-row='2'][data-col='0']"))
        .await
        .unwrap();
    assert_eq!(cell.prop("value").await.unwrap().as_deref(), Some("Jena"));
    let holiday = browser
        .js("return document.querySelector(\"#in-measurements [data-row='0'][data-col='3']\").checked")
        .await;
    assert_eq!(holiday, serde_json::json!(true));
    // Arrow down moves to the same column of the next row; Add row and remove keep the count right.
    let first = browser
        .client
        .find(Locator::Css("#in-measurements [data-row='0'][data-col='2']"))
        .await
        .unwrap();
    first.click().await.unwrap();
    first.send_keys(&Key::Down.to_string()).await.unwrap();
    let focused = browser
        .js("const a = document.activeElement; return [a.dataset.row, a.dataset.col]")
        .await;
    assert_eq!(focused, serde_json::json!(["1", "2"]));
    browser.click("#field-measurements .dataframe-add").await;
    assert_eq!(browser.count("#in-measurements tbody tr").await, 4);
    browser
        .click("#in-measurements tbody tr:last-child .dataframe-remove")
        .await;
    assert_eq!(browser.count("#in-measurements tbody tr").await, 3);

    // A WAV upload.
    let wav = AudioValue::new(8000, 1, sine(4000, 1, 8000.0)).to_wav();
    browser.upload("sound", &files.write("tone.wav", &wav)).await;
    browser
        .wait_for_text("#field-sound .preview", "8000 Hz, 1 channel, 0.50 s")
        .await;
    let summary = submit(&browser).await;
    assert!(summary.contains(&format!("photo {w} x {h} px")), "{summary}");
    assert!(
        summary.contains("3 rows, load sum 13.5, day sum 12, 1 holidays"),
        "{summary}"
    );
    assert!(summary.contains("sound 8000 Hz, 4000 samples, 0.50 s"), "{summary}");
    assert!((echo_duration(&browser).await - 0.5).abs() < 0.01);
    assert_eq!(browser.count("#out-echo canvas.waveform").await, 1);
    assert!(
        browser
            .text("#out-echo .audio-detail")
            .await
            .contains("0.50 s · 8000 Hz · 1 channel")
    );

    // A stereo FLAC upload, mixed to mono by the UI.
    let pcm: Vec<i16> = sine(11_025, 2, 22_050.0)
        .iter()
        .map(|s| (s * 32_000.0) as i16)
        .collect();
    browser
        .upload("sound", &files.write("tone.flac", &flac::flac_16bit(22_050, 2, &pcm)))
        .await;
    browser
        .wait_for_text("#field-sound .preview", "22050 Hz, 2 channels, 0.50 s")
        .await;
    let summary = submit(&browser).await;
    assert!(summary.contains("sound 22050 Hz, 11025 samples, 0.50 s"), "{summary}");

    // A recording from the fake microphone, encoded to WAV in the page.
    browser.click("#field-sound .audio-start").await;
    browser.wait_for_text("#field-sound .audio-status", "Recording").await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    browser.click("#field-sound .audio-stop").await;
    let status = browser.wait_for_text("#field-sound .audio-status", "Recorded").await;
    let rate = status.split(" at ").nth(1).unwrap().trim_end_matches(" Hz.").to_owned();
    let summary = submit(&browser).await;
    assert!(summary.contains(&format!("sound {rate} Hz, ")), "{status} / {summary}");
    let seconds: f64 = summary
        .rsplit(", ")
        .next()
        .unwrap()
        .trim_end_matches(" s")
        .parse()
        .unwrap();
    assert!(seconds > 0.2, "{summary}");
    assert!(echo_duration(&browser).await > 0.2);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_camera_the_input_says_so_and_takes_an_image_and_bad_cells_name_column_and_row() {
    let url = serve(media_page()).await;
    let files = Files::new("fallback");
    let browser = Browser::start(1280, 1400).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    browser
        .js("Object.defineProperty(navigator, 'mediaDevices', {value: undefined, configurable: true})")
        .await;
    browser.click("#in-photo").await;
    let note = browser
        .wait_for_text("#field-photo .camera-note", "Choose an image file instead")
        .await;
    assert!(note.contains("cannot use a camera"), "{note}");
    let png = {
        let img = image::GrayImage::from_pixel(40, 30, image::Luma([90]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    };
    browser.upload("photo-file", &files.write("shot.png", &png)).await;
    browser.wait_for_text("#field-photo .preview", "40 x 30 px").await;
    let summary = submit(&browser).await;
    assert!(summary.contains("photo 40 x 30 px"), "{summary}");
    assert!(summary.contains("2 rows, load sum 7.75"), "{summary}");

    let load = browser
        .client
        .find(Locator::Css("#in-measurements [data-row='1'][data-col='2']"))
        .await
        .unwrap();
    load.clear().await.unwrap();
    load.send_keys("lots").await.unwrap();
    browser.click("#submit").await;
    let error = browser.wait_for_text("#err-measurements", "lots").await;
    assert!(
        error.contains("column `load`, row 2: `lots` is not a number"),
        "{error}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_camera_permission_is_said_and_the_image_picker_offered() {
    let url = serve(media_page()).await;
    let browser = Browser::start_with_args(
        1280,
        1400,
        &["--use-fake-device-for-media-stream", "--deny-permission-prompts"],
    )
    .await;
    browser.open_gui(&format!("{url}/ui/")).await;
    browser.click("#in-photo").await;
    let note = browser
        .wait_for_text("#field-photo .camera-note", "Choose an image file instead")
        .await;
    assert!(note.starts_with("Camera permission was denied."), "{note}");
    assert_eq!(
        browser.count("#field-photo .camera-fallback:not([hidden]) .drop").await,
        1
    );
    assert_eq!(browser.count("#field-photo .camera-buttons[hidden]").await, 1);
    browser.close().await;
}
