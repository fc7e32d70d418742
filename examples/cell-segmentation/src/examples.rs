//! The segmentation GUI's examples to click (issue 18 item 1): the shipped microscopy image and a
//! second, smaller crop of it (`data/crop2d.png`, 16 bit, made from the image by
//! [`crop_of_shipped_image`]; a test checks the shipped file is that crop). Both are compiled in.

use easymlserve::ui::Example;

use crate::ui::IMAGE;

/// Where the crop starts in `data/img2d.tif`, and its side, in pixels.
pub const CROP: (u32, u32, u32) = (160, 96, 192);

/// The shipped image and its crop.
pub fn shipped_images() -> Vec<Example> {
    vec![
        Example::new("Nuclei (the shipped image)").file(
            IMAGE,
            "img2d.tif",
            include_bytes!("../data/img2d.tif").to_vec(),
        ),
        Example::new("A crop of it").file(IMAGE, "crop2d.png", include_bytes!("../data/crop2d.png").to_vec()),
    ]
}

/// `data/crop2d.png` as it is made: the [`CROP`] square of `data/img2d.tif`, kept 16 bit, as PNG.
pub fn crop_of_shipped_image() -> Result<Vec<u8>, image::ImageError> {
    let full = image::load_from_memory(include_bytes!("../data/img2d.tif"))?.into_luma16();
    let (x, y, side) = CROP;
    let crop = image::imageops::crop_imm(&full, x, y, side, side).to_image();
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma16(crop).write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}
