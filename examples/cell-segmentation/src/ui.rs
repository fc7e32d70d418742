//! The GUI of the paper's Figure 4, for the web and the desktop alike: upload a PNG, TIFF (8 or 16 bit)
//! or JPEG image; see the cells outlined in colour, their number, their mean size, and download them as
//! JSON.

use easymlserve::prelude::*;
use easymlserve::serde_json::{Value, json};
use easymlserve::ui::{FileOutput, ImageValue};

use crate::envelope::{ImageRequest, LabelResponse, Limits};
use crate::postprocess::areas;

/// The cell-segmentation UI.
pub struct CellUi;

/// The name of the image input.
pub const IMAGE: &str = "image";

impl Ui for CellUi {
    type Request = ImageRequest;
    type Response = LabelResponse;

    fn title(&self) -> String {
        "Cell segmentation".to_owned()
    }

    fn description(&self) -> String {
        "Upload a fluorescence microscopy image of cell nuclei (PNG, TIFF 8 or 16 bit, or JPEG; colour images \
         use their first channel). The U-Net finds every nucleus and colours it."
            .to_owned()
    }

    fn inputs(&self) -> Vec<Input> {
        vec![Input::image_file(IMAGE, "Microscopy image").description("Nuclei bright on a dark background.")]
    }

    fn outputs(&self) -> Vec<Output> {
        vec![
            Output::image("overlay", "Cells found"),
            Output::number("count", "Number of cells").precision(0),
            Output::number("mean_area", "Mean cell size")
                .precision(1)
                .unit("pixels"),
            Output::file("cells", "Cells as JSON").description("Count, area and position of every cell."),
        ]
    }

    fn prepare_request(&self, inputs: &InputValues) -> Result<ImageRequest, UiError> {
        let image = inputs.image(IMAGE)?;
        let (width, height) = (image.width as usize, image.height as usize);
        let grey = image.channel(0);
        Ok(if image.bit_depth > 8 {
            ImageRequest::from_gray16(width, height, &grey)
        } else {
            let bytes: Vec<u8> = grey.iter().map(|v| (*v).min(255) as u8).collect();
            ImageRequest::from_gray8(width, height, &bytes)
        })
    }

    fn process_response(&self, request: &ImageRequest, response: LabelResponse) -> Result<OutputValues, UiError> {
        let (width, height, labels) = response.decode().map_err(UiError::general)?;
        let unlimited = Limits {
            min_side: 1,
            max_side: u64::MAX,
            max_pixels: u64::MAX,
            max_channels: u64::MAX,
        };
        let shown = request
            .decode(&unlimited)
            .map_err(|e| UiError::general(e.to_string()))?;
        if (shown.width, shown.height) != (width, height) {
            return Err(UiError::general(format!(
                "the service answered labels of {height} x {width} pixels for an image of {} x {}",
                shown.height, shown.width
            )));
        }
        let display = ImageValue {
            width: width as u32,
            height: height as u32,
            channels: 1,
            bit_depth: if matches!(request.dtype, crate::envelope::InputDtype::Uint8) {
                8
            } else {
                16
            },
            data: shown.pixels,
        }
        .to_display()
        .with_labels(&labels);
        let report = cell_report(&labels, width);
        let count = report["count"].as_f64().unwrap_or(0.0);
        let mean_area = report["mean_area"].as_f64().unwrap_or(0.0);
        Ok(OutputValues::new()
            .with("overlay", OutputValue::Image(display))
            .with("count", OutputValue::Number(count))
            .with("mean_area", OutputValue::Number(mean_area))
            .with("cells", OutputValue::File(FileOutput::json("cells.json", &report))))
    }
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
