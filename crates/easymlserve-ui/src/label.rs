//! The `Label` output's value: a classifier's classes with their confidences, highest first, which
//! both GUIs draw as the top k bars with the percentage written out (issue 18).

use serde::{Deserialize, Serialize};

/// Classes a `Label` output shows when its spec sets no `top_k`.
pub const DEFAULT_TOP_K: usize = 5;

/// One class and how confident the model is in it (0 to 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confidence {
    /// The class name.
    pub label: String,
    /// The probability or score, 0 to 1 for a bar of full width at 1.
    pub confidence: f64,
}

/// The value of a `Label` output: classes sorted by confidence, highest first.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Classes {
    /// The classes, highest confidence first.
    pub classes: Vec<Confidence>,
}

impl Classes {
    /// Classes from `(label, confidence)` pairs in any order; sorted highest first (ties keep their
    /// order, a confidence that is not a number goes last).
    pub fn new<L: Into<String>>(pairs: impl IntoIterator<Item = (L, f64)>) -> Self {
        let mut classes: Vec<Confidence> = pairs
            .into_iter()
            .map(|(label, confidence)| Confidence {
                label: label.into(),
                confidence,
            })
            .collect();
        classes.sort_by(|a, b| rank(b.confidence).total_cmp(&rank(a.confidence)));
        Self { classes }
    }

    /// A score vector with its class names (`labels[i]` names `scores[i]`; a missing name is the
    /// index).
    pub fn from_scores(scores: &[f64], labels: &[String]) -> Self {
        Self::new(
            scores
                .iter()
                .enumerate()
                .map(|(i, s)| (labels.get(i).cloned().unwrap_or_else(|| i.to_string()), *s)),
        )
    }

    /// Keeps the `k` most confident classes.
    #[must_use]
    pub fn top(mut self, k: usize) -> Self {
        self.classes.truncate(k);
        self
    }

    /// The classes a GUI shows: the `k` most confident (`DEFAULT_TOP_K` when `None`), highest first,
    /// even when the value was built by hand out of order.
    pub fn shown(&self, k: Option<usize>) -> Vec<&Confidence> {
        let mut all: Vec<&Confidence> = self.classes.iter().collect();
        all.sort_by(|a, b| rank(b.confidence).total_cmp(&rank(a.confidence)));
        all.truncate(k.unwrap_or(DEFAULT_TOP_K));
        all
    }
}

impl Confidence {
    /// The share of a full bar, clamped to 0..=1 (0 for a value that is not a number).
    pub fn bar(&self) -> f64 {
        if self.confidence.is_nan() {
            0.0
        } else {
            self.confidence.clamp(0.0, 1.0)
        }
    }

    /// The confidence as people read it: `"87.3%"`.
    pub fn percent(&self) -> String {
        if self.confidence.is_finite() {
            format!("{:.1}%", self.confidence * 100.0)
        } else {
            "–".to_owned()
        }
    }
}

/// A sort key that puts NaN below every number.
fn rank(x: f64) -> f64 {
    if x.is_nan() { f64::NEG_INFINITY } else { x }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_sort_highest_first_and_the_top_k_are_shown() {
        let classes = Classes::new([("cat", 0.2), ("dog", 0.7), ("odd", f64::NAN), ("fox", 0.1)]);
        let labels: Vec<&str> = classes.classes.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["dog", "cat", "fox", "odd"]);
        let top2: Vec<&str> = classes.shown(Some(2)).iter().map(|c| c.label.as_str()).collect();
        assert_eq!(top2, ["dog", "cat"]);
        assert_eq!(classes.clone().top(1).classes.len(), 1);
        // Built by hand out of order: shown sorted all the same.
        let by_hand = Classes {
            classes: vec![
                Confidence {
                    label: "low".into(),
                    confidence: 0.1,
                },
                Confidence {
                    label: "high".into(),
                    confidence: 0.9,
                },
            ],
        };
        assert_eq!(by_hand.shown(None)[0].label, "high");
    }

    #[test]
    fn scores_get_their_names_and_bars_and_percentages_read_well() {
        let classes = Classes::from_scores(&[0.1, 0.6, 0.3], &["a".into(), "b".into()]);
        let labels: Vec<&str> = classes.classes.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["b", "2", "a"]);
        assert_eq!(classes.classes[0].percent(), "60.0%");
        let odd = |c: f64| Confidence {
            label: String::new(),
            confidence: c,
        };
        assert_eq!(odd(1.7).bar(), 1.0);
        assert_eq!(odd(-0.2).bar(), 0.0);
        assert_eq!(odd(f64::NAN).bar(), 0.0);
        assert_eq!(odd(f64::NAN).percent(), "–");
        let wire = serde_json::to_value(classes.top(1)).unwrap();
        assert_eq!(
            wire,
            serde_json::json!({"classes": [{"label": "b", "confidence": 0.6}]})
        );
    }
}
