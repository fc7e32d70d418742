//! The gallery's rich outputs (issue 18): a colour guess as a Label, three pictures as a Gallery,
//! the bright and dark parts of the image as an AnnotatedImage, and a Markdown report that quotes
//! the notes (so whatever Markdown, or HTML, a visitor types shows how it is rendered safely).

use easymlserve::prelude::*;
use easymlserve::ui::{AnnotatedImage, Annotation, Classes, Gallery, ImageOutput, Markdown};

use crate::service::{GalleryRequest, GalleryResponse, GreyImage};

/// The output specs, in the order they are shown.
pub fn outputs() -> Vec<Output> {
    vec![
        Output::label("guess", "Colour guess")
            .top_k(3)
            .description("How sure the gallery is of the colour you picked (the ratio makes it surer)."),
        Output::gallery("pictures", "Pictures").description("Click a picture to enlarge it."),
        Output::annotated_image("detections", "Bright and dark parts"),
        Output::markdown("card", "Report card"),
    ]
}

/// The values of [`outputs`] for one answer.
pub fn values(request: &GalleryRequest, response: &GalleryResponse) -> Vec<(&'static str, OutputValue)> {
    let grey = request.image.clone().unwrap_or_else(default_image);
    vec![
        ("guess", OutputValue::Label(guess(&request.colour, request.ratio))),
        ("pictures", OutputValue::Gallery(pictures(&grey, request.count))),
        ("detections", OutputValue::AnnotatedImage(detections(&grey))),
        ("card", OutputValue::Markdown(Markdown::parse(&card(request, response)))),
    ]
}

/// The picked colour gets `0.5 + 0.4 * ratio`; the other two share the rest, 2 : 1.
fn guess(colour: &str, ratio: f64) -> Classes {
    let sure = 0.5 + 0.4 * ratio.clamp(0.0, 1.0);
    let mut others = ["red", "green", "blue"].into_iter().filter(|c| *c != colour);
    let (second, third) = (others.next().unwrap_or("green"), others.next().unwrap_or("blue"));
    let rest = 1.0 - sure;
    Classes::new([(colour, sure), (second, rest * 2.0 / 3.0), (third, rest / 3.0)])
}

/// 96 x 64 dark pixels with two bright rectangles.
fn default_image() -> GreyImage {
    let (width, height) = (96u32, 64u32);
    let pixels = (0..width * height)
        .map(|i| {
            let (x, y) = (i % width, i / width);
            let bright =
                (10..40).contains(&x) && (8..30).contains(&y) || (55..85).contains(&x) && (34..58).contains(&y);
            if bright { 220 } else { 40 }
        })
        .collect();
    GreyImage { width, height, pixels }
}

/// The image, its negative, and a checkerboard of `count` squares a side.
fn pictures(grey: &GreyImage, count: i64) -> Gallery {
    let (w, h) = (grey.width, grey.height);
    let inverted = grey.pixels.iter().map(|p| 255 - p).collect();
    let squares = count.clamp(1, 16) as u32;
    let side = 64u32;
    let board = (0..side * side)
        .map(|i| {
            let (x, y) = (i % side * squares / side, i / side * squares / side);
            if (x + y) % 2 == 0 { 230 } else { 30 }
        })
        .collect();
    Gallery::new()
        .item(ImageOutput::from_gray8(w, h, grey.pixels.clone()), "original")
        .item(ImageOutput::from_gray8(w, h, inverted), "inverted")
        .item(
            ImageOutput::from_gray8(side, side, board),
            format!("{squares} x {squares} checkerboard"),
        )
}

/// A box around the pixels brighter than the mean, with their mask, and one around the darker ones.
fn detections(grey: &GreyImage) -> AnnotatedImage {
    let (w, h) = (grey.width, grey.height);
    let mean = grey.pixels.iter().map(|p| f64::from(*p)).sum::<f64>() / grey.pixels.len().max(1) as f64;
    let bright: Vec<bool> = grey.pixels.iter().map(|p| f64::from(*p) > mean).collect();
    let mut out = AnnotatedImage::new(ImageOutput::from_gray8(w, h, grey.pixels.clone()));
    for (label, wanted) in [("bright", true), ("dark", false)] {
        let inside: Vec<bool> = bright.iter().map(|b| *b == wanted).collect();
        let Some((x0, y0, x1, y1)) = bounds(&inside, w) else {
            continue;
        };
        let share = inside.iter().filter(|i| **i).count() as f64 / inside.len().max(1) as f64;
        let mut boxed = Annotation::boxed(label, x0, y0, x1 - x0 + 1.0, y1 - y0 + 1.0).score(share);
        if wanted {
            boxed.mask_png = Annotation::masked(label, w, h, &inside).mask_png;
        }
        out = out.annotation(boxed);
    }
    out
}

/// The smallest box holding every `true` pixel: left, top, right, bottom.
fn bounds(inside: &[bool], width: u32) -> Option<(f64, f64, f64, f64)> {
    let w = width.max(1) as usize;
    let mut found: Option<(usize, usize, usize, usize)> = None;
    for (i, _) in inside.iter().enumerate().filter(|(_, v)| **v) {
        let (x, y) = (i % w, i / w);
        found = Some(match found {
            None => (x, y, x, y),
            Some((a, b, c, d)) => (a.min(x), b.min(y), c.max(x), d.max(y)),
        });
    }
    found.map(|(a, b, c, d)| (a as f64, b as f64, c as f64, d as f64))
}

/// A model card of the request, with the notes quoted as the visitor typed them.
fn card(request: &GalleryRequest, response: &GalleryResponse) -> String {
    let toppings = if request.toppings.is_empty() {
        "- none\n".to_owned()
    } else {
        request.toppings.iter().map(|t| format!("- {t}\n")).collect()
    };
    format!(
        "## {title}\n\nA **{colour}** order, *{count} × {ratio:.2}* = `{score:.2}` points. \
         Every endpoint is in the [REST API docs](/docs/).\n\n### Toppings\n\n{toppings}\n\
         | input | value |\n|---|---|\n| count | {count} |\n| ratio | {ratio:.2} |\n\n### Notes\n\n{notes}\n",
        title = if request.title.is_empty() {
            "Untitled"
        } else {
            &request.title
        },
        colour = request.colour,
        count = request.count,
        ratio = request.ratio,
        score = response.score,
        notes = if request.notes.is_empty() {
            "*No notes.*"
        } else {
            &request.notes
        },
    )
}
