//! The GUI of the paper's Figure 4, for the web and the desktop alike: the GUI generated from
//! `ImageRequest` and `LabelResponse` (a PNG, TIFF 8 or 16 bit or JPEG upload; the cells outlined in
//! colour over it, shown as `overlay`) plus what the labels do not say outright: the number of cells,
//! their mean size, and all of them as a JSON download.

use easymlserve::prelude::*;
use easymlserve::serde_json::{Value, json};
use easymlserve::ui::{DerivedUi, FileOutput};

use crate::envelope::{ImageRequest, LabelResponse};
use crate::postprocess::areas;

/// The cell-segmentation UI's type.
pub type CellUi = DerivedUi<ImageRequest, LabelResponse>;

/// The name of the image input.
pub const IMAGE: &str = "image";

/// The cell-segmentation UI: the generated one, its label overlay named `overlay`, and `count`,
/// `mean_area` and `cells` derived from the labels.
pub fn cell_ui() -> CellUi {
    DerivedUi::new(
        "Cell segmentation",
        "Upload a fluorescence microscopy image of cell nuclei (PNG, TIFF 8 or 16 bit, or JPEG; colour images \
         use their first channel). The U-Net finds every nucleus and colours it.",
    )
    .rename_output("response", "overlay")
    .with_examples(crate::examples::shipped_images())
    .with_output(Output::number("count", "Number of cells").precision(0), |_, labels| {
        Ok(OutputValue::Number(report(labels)?["count"].as_f64().unwrap_or(0.0)))
    })
    .with_output(
        Output::number("mean_area", "Mean cell size")
            .precision(1)
            .unit("pixels"),
        |_, labels| {
            Ok(OutputValue::Number(
                report(labels)?["mean_area"].as_f64().unwrap_or(0.0),
            ))
        },
    )
    .with_output(
        Output::file("cells", "Cells as JSON").description("Count, area and position of every cell."),
        |_, labels| Ok(OutputValue::File(FileOutput::json("cells.json", &report(labels)?))),
    )
}

/// The [`cell_report`] of a response.
fn report(response: &LabelResponse) -> Result<Value, UiError> {
    let (width, _, labels) = response.decode().map_err(UiError::general)?;
    Ok(cell_report(&labels, width))
}

/// The JSON report of a label image: `count`, `mean_area`, `areas`, and per cell its `label`, `area`,
/// `centroid` `[x, y]` and bounding box `bbox` `[x_min, y_min, x_max, y_max]` (inclusive).
pub fn cell_report(labels: &[u32], width: usize) -> Value {
    let areas = areas(labels);
    let n = areas.len();
    let mut sums = vec![(0u64, 0u64); n];
    let mut boxes = vec![(usize::MAX, usize::MAX, 0usize, 0usize); n];
    for (i, &l) in labels.iter().enumerate() {
        let (x, y, l) = (i % width, i / width, l as usize);
        sums[l].0 += x as u64;
        sums[l].1 += y as u64;
        let b = &mut boxes[l];
        *b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
    }
    let instances: Vec<Value> = (1..n)
        .filter(|l| areas[*l] > 0)
        .map(|l| {
            let a = areas[l] as f64;
            let (bx0, by0, bx1, by1) = boxes[l];
            json!({
                "label": l,
                "area": areas[l],
                "centroid": [round2(sums[l].0 as f64 / a), round2(sums[l].1 as f64 / a)],
                "bbox": [bx0, by0, bx1, by1],
            })
        })
        .collect();
    let cell_areas: Vec<u64> = instances.iter().filter_map(|c| c["area"].as_u64()).collect();
    let mean = if cell_areas.is_empty() {
        0.0
    } else {
        cell_areas.iter().sum::<u64>() as f64 / cell_areas.len() as f64
    };
    json!({
        "count": instances.len(),
        "mean_area": round2(mean),
        "areas": cell_areas,
        "instances": instances,
    })
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_every_cell() {
        let labels = [0, 1, 1, 0, 2, 0, 1, 1, 0];
        let report = cell_report(&labels, 3);
        assert_eq!(report["count"], 2);
        assert_eq!(report["areas"], json!([4, 1]));
        assert_eq!(report["mean_area"], 2.5);
        assert_eq!(report["instances"][0]["bbox"], json!([0, 0, 2, 2]));
        assert_eq!(report["instances"][1]["centroid"], json!([1.0, 1.0]));
    }
}
