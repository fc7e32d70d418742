//! The forecasting GUI's examples to click (issue 18 item 1): three months of the shipped samples, so a
//! visitor without a CSV of their own can try the models: a winter month, a summer month, and December
//! with its holidays, each with all three models chosen. The files are compiled into the binary.

use easymlserve::ui::Example;

/// The input of the CSV upload and of the model checkboxes, as the generated GUI names them.
const CSV: &str = "csv";
const MODELS: &str = "models";

/// Winter (January 2019), summer (July 2019) and a month with holidays (December 2019).
pub fn sample_months() -> Vec<Example> {
    vec![
        month(
            "Winter: January 2019",
            "2019-01.csv",
            include_bytes!("../samples/2019-01.csv"),
        ),
        month(
            "Summer: July 2019",
            "2019-07.csv",
            include_bytes!("../samples/2019-07.csv"),
        ),
        month(
            "Holidays: December 2019",
            "2019-12.csv",
            include_bytes!("../samples/2019-12.csv"),
        ),
    ]
}

fn month(label: &str, file: &str, bytes: &[u8]) -> Example {
    Example::new(label)
        .choices(MODELS, ["LR", "SVR", "RF"])
        .file(CSV, file, bytes.to_vec())
}
