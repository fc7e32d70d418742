//! The generated GUI of the digits CNN in headless Chromium: an uploaded PNG of a digit is converted
//! to the model's grey 8 x 8 input and the classes come back ranked, the right digit first.

use easymlserve::server::ServerConfig;
use easymlserve_onnx::RuntimeChoice;
use easymlserve_testkit::Browser;

use crate::{config, example, serve};

#[tokio::test]
async fn an_uploaded_digit_is_classified_with_ranked_labels_in_the_browser() {
    let url = serve(
        config("digits_cnn.onnx", RuntimeChoice::Tract, None),
        ServerConfig::default(),
    )
    .await;
    let browser = Browser::start(1100, 900).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(browser.text("#title").await, "digits_cnn");
    for (file, digit) in [("digit-7-1496.png", "7"), ("digit-3-705.png", "3")] {
        let path = example(&format!("examples/{file}")).canonicalize().unwrap();
        browser.upload("image", &path).await;
        browser.click("#submit").await;
        // The first class's name, once this upload's answer has replaced the previous one.
        let first = browser.wait_for_text("#out-probabilities .label-name", digit).await;
        assert_eq!(first, digit, "{file}: the top class is {first}");
        assert!(browser.text("#out-probabilities .label-percent").await.ends_with('%'));
        let rows = browser.count("#out-probabilities .label-row").await;
        assert_eq!(rows, 5, "the five most likely classes are listed");
    }
    browser.close().await;
}
