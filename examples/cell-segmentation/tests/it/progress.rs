//! Progress and cancel of the segmentation: an image of six tiles reports each tile, then the watershed,
//! with rising fractions before its result (through the engine, as a job or stream sees it), and a
//! cancel between tiles stops the U-Net there.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::sync::{Arc, Mutex};
use std::time::Instant;

use cell_segmentation::envelope::{ImageRequest, LabelResponse};
use cell_segmentation::unet::Tiling;
use easymlserve::core::{CancelFlag, Progress};
use easymlserve::prelude::*;
use easymlserve::server::{Event, Submit};

use crate::util::segmenter;

/// 32-pixel tiles with 8 pixels of context: a 96 x 64 image is six tiles.
const SMALL_TILES: Tiling = Tiling { tile: 32, margin: 8 };

/// A 96 x 64 image with a few bright round cells.
fn cells_image() -> ImageRequest {
    let centres = [(16, 16), (50, 20), (80, 44), (30, 48)];
    let pixels: Vec<u8> = (0..96 * 64)
        .map(|i| {
            let (x, y) = (i % 96, i / 96);
            let inside = centres
                .iter()
                .any(|(cx, cy)| (x - cx) * (x - cx) + (y - cy) * (y - cy) <= 36);
            if inside { 200 } else { 12 }
        })
        .collect();
    ImageRequest::from_gray8(96, 64, &pixels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_tile_then_the_watershed_is_reported_with_rising_fractions() {
    let state = Server::new(segmenter().with_tiling(SMALL_TILES)).into_state();
    state.load().await.unwrap();
    let engine = state.engine();
    let valid = engine.validate(serde_json::to_value(cells_image()).unwrap()).unwrap();
    let started = Instant::now();
    let mut execution = engine
        .submit(
            valid,
            Submit {
                progress: true,
                ..Submit::default()
            },
        )
        .unwrap();
    let mut reports = Vec::new();
    let mut result = None;
    while let Some(event) = execution.next().await {
        match event {
            Event::Progress(progress) => {
                assert!(result.is_none(), "progress after the result");
                reports.push((progress, started.elapsed()));
            }
            Event::Result(body) => result = Some(body),
            Event::Error(err) => panic!("the segmentation failed: {err}"),
        }
    }
    let messages: Vec<&str> = reports.iter().map(|(p, _)| p.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "tile 1 of 6",
            "tile 2 of 6",
            "tile 3 of 6",
            "tile 4 of 6",
            "tile 5 of 6",
            "tile 6 of 6",
            "separating touching cells"
        ]
    );
    let fractions: Vec<f64> = reports.iter().map(|(p, _)| p.fraction.unwrap()).collect();
    assert!(fractions.windows(2).all(|w| w[0] < w[1]), "{fractions:?}");
    assert_eq!(fractions[0], 0.0);
    let last = reports.last().unwrap().1;
    println!(
        "tiles took {:.0} ms, the watershed and answer {:.0} ms",
        last.as_secs_f64() * 1e3,
        (started.elapsed() - last).as_secs_f64() * 1e3
    );
    let response: LabelResponse = serde_json::from_slice(&result.unwrap()).unwrap();
    let (width, height, labels) = response.decode().unwrap();
    assert_eq!((width, height, labels.len()), (96, 64, 96 * 64));
    assert!(state.spec().unwrap().capabilities.progress);
}

#[test]
fn a_cancel_between_tiles_stops_the_unet_there() {
    let service = segmenter().with_tiling(SMALL_TILES).loaded().unwrap();
    let flag = CancelFlag::new();
    let reports = Arc::new(Mutex::new(Vec::<Progress>::new()));
    let sink = {
        let (reports, flag) = (Arc::clone(&reports), flag.clone());
        Arc::new(move |p: Progress| {
            let mut reports = reports.lock().unwrap();
            reports.push(p);
            // The user cancels as the second tile is announced.
            if reports.len() == 2 {
                flag.cancel();
            }
        })
    };
    let ctx = Context::detached().with_cancel(flag).with_progress(sink);
    let result = service.process_with(cells_image(), &ctx);
    assert_eq!(result.err(), Some(ServiceError::Cancelled));
    let messages: Vec<String> = reports.lock().unwrap().iter().map(|p| p.message.clone()).collect();
    assert_eq!(messages, ["tile 1 of 6", "tile 2 of 6"], "no tile after the cancel");
}
