//! Examples to click in the desktop GUI (issue 18 item 1), as on the web page: the UI's examples are
//! listed under the form, each with a thumbnail or its first values, and one click fills every input
//! the example names, files included (parsed for their preview as if loaded). With
//! [`DesktopApp::cache_examples`](crate::DesktopApp::cache_examples) the window computes every
//! example's outputs once at start, in the background, so a click then shows its result at once.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use easymlserve_core::ServiceCaller;
use easymlserve_ui::{ExampleSpec, OutputValues, UiSession};

use crate::inputs::InputState;

/// One computed example: its outputs, or why they could not be computed.
type CachedResult = Result<OutputValues, String>;

/// The listed examples, their thumbnails, and their outputs once computed.
pub(crate) struct ExampleList {
    entries: Vec<Entry>,
    /// Filled by the background task of `cache`; `None` until an example's turn came.
    cached: Arc<Mutex<Vec<Option<CachedResult>>>>,
    /// Whether `cache` is to start once the window draws (it needs the window to wake).
    wanted: bool,
    /// Whether `cache` was started (the list then says a click shows the result).
    caching: bool,
    /// The example clicked last, shown pressed.
    pressed: Option<usize>,
    /// The example clicked while its outputs were still being computed: shown once they are.
    awaited: Option<usize>,
}

struct Entry {
    spec: ExampleSpec,
    thumbnail: Option<egui::ColorImage>,
    texture: Option<egui::TextureHandle>,
}

impl ExampleList {
    /// The examples of `session`'s UI, with their thumbnails decoded.
    pub fn new(session: &UiSession) -> Self {
        let inputs = &session.spec().inputs;
        let entries: Vec<Entry> = session
            .examples()
            .iter()
            .zip(&session.spec().examples)
            .map(|(example, spec)| Entry {
                spec: spec.clone(),
                thumbnail: example
                    .thumbnail(inputs)
                    .and_then(|png| crate::outputs::decode_png(&png)),
                texture: None,
            })
            .collect();
        let cached = Arc::new(Mutex::new(vec![None; entries.len()]));
        Self {
            entries,
            cached,
            wanted: false,
            caching: false,
            pressed: None,
            awaited: None,
        }
    }

    /// Asks for the outputs to be computed when the window first draws.
    pub fn want_cache(&mut self) {
        self.wanted = true;
    }

    /// Whether `cache` is wanted and not started yet; asked once (a caller that cannot be made is
    /// reported once, not every frame).
    pub fn take_cache_wish(&mut self) -> bool {
        std::mem::take(&mut self.wanted) && !self.caching
    }

    /// Computes the outputs of every example, one after the other, on `runtime`; `wake` repaints.
    pub fn cache(
        &mut self,
        session: UiSession,
        caller: Arc<dyn ServiceCaller>,
        runtime: &tokio::runtime::Runtime,
        wake: impl Fn() + Send + 'static,
    ) {
        if self.caching || self.entries.is_empty() {
            return;
        }
        self.caching = true;
        let cached = Arc::clone(&self.cached);
        runtime.spawn(async move {
            for (index, example) in session.examples().iter().enumerate() {
                let outcome = match session.parse_inputs(example.raw()) {
                    Ok(values) => session
                        .run(&values, caller.as_ref())
                        .await
                        .map(|done| done.outputs)
                        .map_err(|err| err.to_string()),
                    Err(err) => Err(err.to_string()),
                };
                if let Some(slot) = cached.lock().unwrap_or_else(PoisonError::into_inner).get_mut(index) {
                    *slot = Some(outcome);
                }
                wake();
            }
        });
    }

    /// The example clicked before its outputs were there, once they are.
    pub fn awaited_and_ready(&self) -> Option<usize> {
        self.awaited.filter(|i| self.cached(*i).is_some())
    }

    /// What a click on example `index` shows: the status line, and its outputs when they were
    /// computed at start.
    pub fn outcome(&mut self, index: usize) -> (String, Option<OutputValues>) {
        let label = self.entries.get(index).map_or("", |e| e.spec.label.as_str());
        self.awaited = None;
        match self.cached(index) {
            Some(Ok(outputs)) => (format!("Result of “{label}” (computed at start)."), Some(outputs)),
            Some(Err(err)) => (format!("Filled with “{label}”; press Submit ({err})."), None),
            None if self.caching => {
                let status = format!("Filled with “{label}”; its result is still being computed…");
                self.awaited = Some(index);
                (status, None)
            }
            None => (format!("Filled with “{label}”; press Submit."), None),
        }
    }

    /// The computed outputs of example `index`, once they are there.
    fn cached(&self, index: usize) -> Option<CachedResult> {
        self.cached
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(index)
            .cloned()
            .flatten()
    }

    /// Draws the list; returns the example clicked in this frame.
    pub fn ui(&mut self, ui: &mut egui::Ui) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        let mut clicked = None;
        ui.add_space(8.0);
        ui.strong("Examples");
        ui.weak(if self.caching {
            "Click one to fill the form and see its result."
        } else {
            "Click one to fill the form."
        });
        for (index, entry) in self.entries.iter_mut().enumerate() {
            let pressed = self.pressed == Some(index);
            let response = ui
                .horizontal(|ui| {
                    if let Some(image) = &entry.thumbnail {
                        let texture = entry.texture.get_or_insert_with(|| {
                            crate::outputs::image_texture(ui.ctx(), &format!("example-{index}"), image.clone())
                        });
                        let size = texture.size_vec2();
                        let scale = 48.0 / size.x.max(size.y).max(1.0);
                        ui.add(egui::Image::new(&*texture).fit_to_exact_size(size * scale));
                    }
                    let button = ui.add(egui::Button::new(entry.spec.label.as_str()).selected(pressed));
                    if !entry.spec.summary.is_empty() {
                        ui.weak(entry.spec.summary.as_str());
                    }
                    button
                })
                .inner;
            if response.clicked() {
                clicked = Some(index);
            }
        }
        if clicked.is_some() {
            self.pressed = clicked;
        }
        clicked
    }
}

/// Fills `inputs` (in the order of the UI's inputs) with example `index` of `session`: every input
/// the example names, files included; a value that does not fit its input goes to `errors`.
pub(crate) fn fill(
    session: &UiSession,
    index: usize,
    inputs: &mut [InputState],
    errors: &mut BTreeMap<String, String>,
) {
    let Some(example) = session.examples().get(index) else {
        return;
    };
    for (input, state) in session.spec().inputs.iter().zip(inputs.iter_mut()) {
        let Some(raw) = example.values.get(&input.name) else {
            continue;
        };
        match InputState::from_raw(input, raw) {
            Ok(filled) => *state = filled,
            Err(message) => {
                errors.insert(input.name.clone(), message);
            }
        }
    }
}
