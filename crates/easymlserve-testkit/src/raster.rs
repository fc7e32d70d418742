//! A small CPU rasterizer for egui's output, so the desktop tests can take pictures of the window they
//! drive on a machine with no GPU (CI has none, and wgpu's software adapters are a heavy build). It
//! draws what egui tessellates: triangles with a colour per vertex and a texture (the font atlas or an
//! image), clipped, sampled bilinearly and blended premultiplied in gamma space, as egui's own
//! renderers do. [`Textures`] is the harness's renderer: it keeps every texture egui uploads.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use egui::epaint::{ClippedPrimitive, Primitive, Vertex};
use egui::{Color32, ColorImage, ImageData, TextureId, TexturesDelta};

/// The textures egui uploaded so far, shared between the harness (which feeds them) and the test.
#[derive(Clone, Default)]
pub struct Textures(Arc<Mutex<HashMap<TextureId, ColorImage>>>);

impl egui_kittest::TestRenderer for Textures {
    fn handle_delta(&mut self, delta: &mut TexturesDelta) {
        let mut textures = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for (id, changes) in &delta.set {
            for change in changes {
                let ImageData::Color(image) = &change.image;
                match change.pos {
                    None => {
                        textures.insert(*id, (**image).clone());
                    }
                    Some(at) => {
                        if let Some(target) = textures.get_mut(id) {
                            patch(target, image, at);
                        }
                    }
                }
            }
        }
        for id in &delta.free {
            textures.remove(id);
        }
        // Handled: egui checks that no delta is dropped unapplied.
        delta.clear();
    }
}

/// Writes `image` into `target` with its top-left corner at `[x0, y0]` (egui grows its font atlas so).
fn patch(target: &mut ColorImage, image: &ColorImage, [x0, y0]: [usize; 2]) {
    let width = target.size[0];
    for y in 0..image.size[1] {
        for x in 0..image.size[0] {
            if let Some(pixel) = target.pixels.get_mut((y0 + y) * width + x0 + x) {
                *pixel = image.pixels[y * image.size[0] + x];
            }
        }
    }
}

/// A picture of `width` x `height` pixels, 8-bit RGB row by row.
pub struct Rgb {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// Red, green, blue per pixel, row by row from the top.
    pub pixels: Vec<u8>,
}

/// Draws `primitives` (egui's tessellated output, in points) at `pixels_per_point` onto a canvas
/// of `size` points filled with `background`.
pub fn draw(
    primitives: &[ClippedPrimitive],
    textures: &Textures,
    size: egui::Vec2,
    pixels_per_point: f32,
    background: Color32,
) -> Rgb {
    let width = (size.x * pixels_per_point).round().max(1.0) as usize;
    let height = (size.y * pixels_per_point).round().max(1.0) as usize;
    let bg = rgba(background);
    let mut canvas = Canvas {
        width,
        height,
        pixels: vec![bg; width * height],
    };
    let textures = textures.0.lock().unwrap_or_else(PoisonError::into_inner);
    for clipped in primitives {
        let Primitive::Mesh(mesh) = &clipped.primitive else {
            continue;
        };
        let Some(texture) = textures.get(&mesh.texture_id) else {
            continue;
        };
        let clip = clipped.clip_rect * pixels_per_point;
        for triangle in mesh.indices.chunks_exact(3) {
            let corner = |i: u32| mesh.vertices.get(i as usize);
            if let (Some(a), Some(b), Some(c)) = (corner(triangle[0]), corner(triangle[1]), corner(triangle[2])) {
                canvas.triangle([a, b, c], texture, clip, pixels_per_point);
            }
        }
    }
    let pixels = canvas
        .pixels
        .iter()
        .flat_map(|p| [p[0], p[1], p[2]].map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8))
        .collect();
    Rgb {
        width: u32::try_from(width).unwrap_or(u32::MAX),
        height: u32::try_from(height).unwrap_or(u32::MAX),
        pixels,
    }
}

/// A premultiplied gamma-space colour, 0 to 1 per channel.
type Rgba = [f32; 4];

fn rgba(c: Color32) -> Rgba {
    c.to_array().map(|v| f32::from(v) / 255.0)
}

struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<Rgba>,
}

impl Canvas {
    /// Fills the pixels whose centres lie in the triangle, within `clip` (in pixels).
    fn triangle(&mut self, v: [&Vertex; 3], texture: &ColorImage, clip: egui::Rect, ppp: f32) {
        let p = v.map(|v| (v.pos.x * ppp, v.pos.y * ppp));
        let area = edge(p[0], p[1], p[2]);
        if area.abs() < 1e-9 {
            return;
        }
        let xs = [p[0].0, p[1].0, p[2].0];
        let ys = [p[0].1, p[1].1, p[2].1];
        let lo = |vals: [f32; 3], bound: f32| vals.iter().fold(f32::INFINITY, |m, x| m.min(*x)).max(bound).max(0.0);
        let hi = |vals: [f32; 3], bound: f32, size: usize| {
            vals.iter()
                .fold(f32::NEG_INFINITY, |m, x| m.max(*x))
                .min(bound)
                .min(size as f32)
        };
        let (x0, x1) = (
            lo(xs, clip.min.x).floor() as usize,
            hi(xs, clip.max.x, self.width).ceil() as usize,
        );
        let (y0, y1) = (
            lo(ys, clip.min.y).floor() as usize,
            hi(ys, clip.max.y, self.height).ceil() as usize,
        );
        let colours = v.map(|v| rgba(v.color));
        for y in y0..y1 {
            for x in x0..x1 {
                let centre = (x as f32 + 0.5, y as f32 + 0.5);
                if !clip.contains(egui::pos2(centre.0, centre.1)) {
                    continue;
                }
                let w0 = edge(p[1], p[2], centre) / area;
                let w1 = edge(p[2], p[0], centre) / area;
                let w2 = 1.0 - w0 - w1;
                if w0 < -1e-5 || w1 < -1e-5 || w2 < -1e-5 {
                    continue;
                }
                let u = w0 * v[0].uv.x + w1 * v[1].uv.x + w2 * v[2].uv.x;
                let t = w0 * v[0].uv.y + w1 * v[1].uv.y + w2 * v[2].uv.y;
                let sample = bilinear(texture, u, t);
                let mut src = [0.0; 4];
                for (i, channel) in src.iter_mut().enumerate() {
                    let shade = w0 * colours[0][i] + w1 * colours[1][i] + w2 * colours[2][i];
                    *channel = shade * sample[i];
                }
                let dst = &mut self.pixels[y * self.width + x];
                for i in 0..4 {
                    dst[i] = src[i] + dst[i] * (1.0 - src[3]);
                }
            }
        }
    }
}

/// Twice the signed area of the triangle (a, b, c).
fn edge(a: (f32, f32), b: (f32, f32), c: (f32, f32)) -> f32 {
    (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)
}

/// The texture's colour at (u, v), 0 to 1 across it, between the four nearest texels.
fn bilinear(texture: &ColorImage, u: f32, v: f32) -> Rgba {
    let [w, h] = texture.size;
    if w == 0 || h == 0 {
        return [0.0; 4];
    }
    let x = (u * w as f32 - 0.5).clamp(0.0, (w - 1) as f32);
    let y = (v * h as f32 - 0.5).clamp(0.0, (h - 1) as f32);
    let (x0, y0) = (x.floor() as usize, y.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |x: usize, y: usize| rgba(texture.pixels[y * w + x]);
    let (a, b, c, d) = (at(x0, y0), at(x1, y0), at(x0, y1), at(x1, y1));
    let mut out = [0.0; 4];
    for i in 0..4 {
        let top = a[i] + (b[i] - a[i]) * fx;
        let bottom = c[i] + (d[i] - c[i]) * fx;
        out[i] = top + (bottom - top) * fy;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use egui::epaint::Mesh;

    #[test]
    fn a_coloured_rectangle_covers_its_pixels_and_is_clipped() {
        let textures = Textures::default();
        let white = ColorImage::new([1, 1], vec![Color32::WHITE]);
        textures.0.lock().unwrap().insert(TextureId::default(), white);
        let mut mesh = Mesh::default();
        mesh.add_colored_rect(
            egui::Rect::from_min_max(egui::pos2(2.0, 2.0), egui::pos2(6.0, 6.0)),
            Color32::RED,
        );
        let clip = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(4.0, 10.0));
        let primitives = [ClippedPrimitive {
            clip_rect: clip,
            primitive: Primitive::Mesh(mesh),
        }];
        let picture = draw(&primitives, &textures, egui::vec2(8.0, 8.0), 1.0, Color32::BLACK);
        let at = |x: usize, y: usize| &picture.pixels[(y * 8 + x) * 3..(y * 8 + x) * 3 + 3];
        assert_eq!(at(3, 3), [255, 0, 0], "inside");
        assert_eq!(at(1, 3), [0, 0, 0], "left of the rectangle");
        assert_eq!(at(5, 3), [0, 0, 0], "clipped away");
        assert_eq!(at(3, 6), [0, 0, 0], "below the rectangle");
    }
}
