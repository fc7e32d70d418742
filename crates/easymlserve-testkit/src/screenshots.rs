//! Screenshots of a GUI page for the README (issue 18 item 7), taken by the browser tests that drive
//! the forecasting, segmentation and gallery pages, so the pictures show what the tests checked. A
//! normal test run only takes and checks them; with `EASYMLSERVE_SCREENSHOTS` set they are written to
//! `docs/screenshots/` (`scripts/screenshots.sh` runs those tests and shrinks the files), so CI never
//! changes the checkout.

use std::path::PathBuf;
use std::time::Duration;

use crate::Browser;

/// The tallest page picture, in CSS pixels: a long page is cut here.
const MAX_HEIGHT: u32 = 2200;

/// A decoded screenshot: 8-bit RGB, row by row.
pub(crate) struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

impl Picture {
    /// Reads the PNG Chromium answers (8-bit RGB or RGBA; grey and palettes expanded).
    fn decode(png: &[u8]) -> Self {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().expect("a PNG screenshot");
        let mut buffer = vec![0; reader.output_buffer_size().expect("a picture that fits in memory")];
        let frame = reader.next_frame(&mut buffer).expect("a readable PNG");
        let (width, height) = (frame.width, frame.height);
        let pixels = &buffer[..frame.buffer_size()];
        let rgb = match frame.color_type {
            png::ColorType::Rgb => pixels.to_vec(),
            png::ColorType::Rgba => pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
            png::ColorType::Grayscale => pixels.iter().flat_map(|&g| [g, g, g]).collect(),
            png::ColorType::GrayscaleAlpha => pixels.chunks_exact(2).flat_map(|p| [p[0], p[0], p[0]]).collect(),
            png::ColorType::Indexed => unreachable!("EXPAND turns palettes into RGB"),
        };
        Self { width, height, rgb }
    }

    /// Mean luma (Rec. 601 weights), 0 black to 255 white.
    pub fn mean_luma(&self) -> f64 {
        let sum: f64 = self
            .rgb
            .chunks_exact(3)
            .map(|p| 0.299 * f64::from(p[0]) + 0.587 * f64::from(p[1]) + 0.114 * f64::from(p[2]))
            .sum();
        sum / f64::from(self.width * self.height).max(1.0)
    }

    /// The same pixels as an RGB PNG at the encoder's best compression (Chromium's are RGBA, fast).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&self.rgb).unwrap();
        writer.finish().unwrap();
        out
    }
}

/// Where the README's screenshots live, in the workspace.
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

impl Browser {
    /// The page as it is now, `width` CSS pixels wide and as tall as its content (up to 2,200 px):
    /// the window is sized so that its viewport, not its outer frame, has that size.
    async fn whole_page(&self, width: u32) -> Vec<u8> {
        let measure = || async {
            let sizes = self
                .js("const d = document.documentElement;\
                     return [d.scrollHeight, outerWidth - innerWidth, outerHeight - innerHeight];")
                .await;
            let at = |i: usize| u32::try_from(sizes[i].as_u64().unwrap_or(0)).unwrap_or(0);
            (at(0).min(MAX_HEIGHT), at(1), at(2))
        };
        // Twice: the first resize can change the layout's height (plots redraw at their new width).
        for _ in 0..2 {
            let (height, frame_w, frame_h) = measure().await;
            self.client
                .set_window_size(width + frame_w, height + frame_h)
                .await
                .unwrap();
            // Plots redraw 100 ms after a resize.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        self.js("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur();")
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.client.screenshot().await.unwrap()
    }

    /// Takes the open page in the light and the dark theme (the header's toggle, as a visitor would),
    /// `width` CSS pixels wide; checks that both show the same size and that the dark one is darker;
    /// leaves the page light; returns both as compact RGB PNGs, also written to
    /// `docs/screenshots/{name}-light.png` and `-dark.png` when `EASYMLSERVE_SCREENSHOTS` is set.
    pub async fn screenshots_light_and_dark(&self, name: &str, width: u32) -> [Vec<u8>; 2] {
        let theme = || self.js("return document.documentElement.dataset.theme;");
        if theme().await == "dark" {
            self.click("#theme-toggle").await;
        }
        assert_eq!(theme().await, "light");
        let light = self.whole_page(width).await;
        self.click("#theme-toggle").await;
        assert_eq!(theme().await, "dark", "the toggle switches to the dark theme");
        let dark = self.whole_page(width).await;
        self.click("#theme-toggle").await;
        let (light, dark) = (Picture::decode(&light), Picture::decode(&dark));
        assert!(light.width > 0 && light.height > 0, "{name}: an empty picture");
        assert_eq!(
            (dark.width, dark.height),
            (light.width, light.height),
            "{name}: both themes show the same page"
        );
        let (lit, dim) = (light.mean_luma(), dark.mean_luma());
        assert!(
            dim < lit * 0.7,
            "{name}: the dark picture is dark (mean luma {dim:.0} against {lit:.0})"
        );
        let (light, dark) = (light.encode(), dark.encode());
        if std::env::var_os("EASYMLSERVE_SCREENSHOTS").is_some() {
            let dir = screenshot_dir();
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(format!("{name}-light.png")), &light).unwrap();
            std::fs::write(dir.join(format!("{name}-dark.png")), &dark).unwrap();
        }
        [light, dark]
    }
}
