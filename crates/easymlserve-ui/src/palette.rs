//! One colour per series name across every plot of a page, so "LR" is the same colour in the
//! forecast plot and in the error plot. The web GUI (assets/plot.js) and the desktop GUI both follow
//! this rule with this list; the web browser test checks its strokes against [`PALETTE`].

use super::plot::Series;

/// The Okabe-Ito colour-blind-safe palette (Okabe & Ito, "Color Universal Design", 2002,
/// <https://jfly.uni-koeln.de/color/>), in its published order.
pub const PALETTE: [&str; 8] = [
    "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000",
];

/// The part of a legend name that picks the colour: the name without a trailing note in
/// parentheses, so "LR (MAE 12.3)" shares the colour of "LR".
pub fn colour_key(name: &str) -> &str {
    let trimmed = name.trim_end();
    if trimmed.ends_with(')')
        && let Some(open) = trimmed.rfind(" (")
        && open > 0
    {
        return trimmed[..open].trim_end();
    }
    trimmed
}

/// Names seen so far on one page (or window), in order of first appearance. Make a new one for
/// each result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColourMap {
    names: Vec<String>,
}

impl ColourMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The colour of a series: the author's `colour` when set, otherwise the palette entry of its
    /// name's first appearance (cycling after eight names). Author-coloured series take no slot.
    pub fn colour(&mut self, series: &Series) -> String {
        if let Some(colour) = &series.colour {
            return colour.clone();
        }
        self.colour_of(&series.name)
    }

    /// The palette colour of a name (a series, or a detected object's label), by the same rule.
    pub fn colour_of(&mut self, name: &str) -> String {
        let key = colour_key(name);
        let index = match self.names.iter().position(|n| n == key) {
            Some(i) => i,
            None => {
                self.names.push(key.to_owned());
                self.names.len() - 1
            }
        };
        PALETTE[index % PALETTE.len()].to_owned()
    }
}

/// Reads "#RRGGBB" as red, green and blue.
pub fn parse_hex_colour(text: &str) -> Option<[u8; 3]> {
    let hex = text.strip_prefix('#')?;
    if hex.len() != 6 || !hex.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str) -> Series {
        Series::line(name, vec![0.0], vec![1.0])
    }

    #[test]
    fn names_keep_their_colour_in_order_of_first_appearance() {
        let mut map = ColourMap::new();
        // Forecast plot: measured, LR, SVR.
        let measured = map.colour(&s("measured"));
        let lr = map.colour(&s("LR"));
        let svr = map.colour(&s("SVR"));
        assert_eq!(
            [measured.as_str(), lr.as_str(), svr.as_str()],
            [PALETTE[0], PALETTE[1], PALETTE[2]]
        );
        // Error plot: SVR first this time, with a note in the legend; colours follow the name.
        assert_eq!(map.colour(&s("SVR (MAE 20.1)")), svr);
        assert_eq!(map.colour(&s("LR (MAE 12.3)")), lr);
        assert_eq!(map.colour(&s("RF")), PALETTE[3]);
        // A fresh map (a new result) starts the palette again.
        assert_eq!(ColourMap::new().colour(&s("RF")), PALETTE[0]);
    }

    #[test]
    fn an_author_colour_wins_and_takes_no_slot_and_the_palette_cycles() {
        let mut map = ColourMap::new();
        assert_eq!(map.colour(&s("truth").colour("#123456")), "#123456");
        assert_eq!(map.colour(&s("a")), PALETTE[0]);
        for (i, colour) in PALETTE.iter().enumerate().skip(1) {
            assert_eq!(map.colour(&s(&format!("n{i}"))), *colour);
        }
        assert_eq!(map.colour(&s("ninth")), PALETTE[0]);
    }

    #[test]
    fn keys_and_hex_colours() {
        assert_eq!(colour_key("LR (MAE 1.5)"), "LR");
        assert_eq!(colour_key("(only a note)"), "(only a note)");
        assert_eq!(colour_key("f(x)"), "f(x)");
        assert_eq!(parse_hex_colour("#E69F00"), Some([0xE6, 0x9F, 0x00]));
        assert_eq!(parse_hex_colour("E69F00"), None);
        assert_eq!(parse_hex_colour("#E69F0"), None);
        assert_eq!(parse_hex_colour("#GG0000"), None);
        assert!(PALETTE.iter().all(|c| parse_hex_colour(c).is_some()));
    }
}
