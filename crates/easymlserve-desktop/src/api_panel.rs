//! "Use via API" in the desktop window (issue 18 item 5), as on the web page: after a submit, the
//! exact request just sent as a curl command, Python (`requests`), JavaScript (`fetch`) and Rust
//! (`easymlserve::Client`), with the API key only as a placeholder, a Copy button and a link to the
//! service's `/docs`. Every quoting stays valid for any JSON: shell single quotes with `'` escaped,
//! Python literals written from the value, JSON text as a JavaScript expression, and a Rust raw string
//! with more `#` than any `"#…` run inside it. A request too long to read (an image's pixels) is
//! referred to as `request.json`, which "Copy request JSON" fills.

use serde_json::Value;

/// What stands for the API key in a snippet.
pub const KEY_PLACEHOLDER: &str = "<your key>";

/// Longest request JSON written into a snippet; a longer one is read from `request.json`.
const INLINE_CHARS: usize = 20_000;

/// The languages offered, in tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// A curl command.
    Curl,
    /// Python with `requests`.
    Python,
    /// JavaScript with `fetch`.
    JavaScript,
    /// Rust with `easymlserve::Client`.
    Rust,
}

impl Language {
    const ALL: [Self; 4] = [Self::Curl, Self::Python, Self::JavaScript, Self::Rust];

    fn name(self) -> &'static str {
        match self {
            Self::Curl => "curl",
            Self::Python => "Python",
            Self::JavaScript => "JavaScript",
            Self::Rust => "Rust",
        }
    }
}

/// The snippet in `language` that sends `request` to the service at `base_url` (no trailing
/// `/process`), with the key header when `with_key`.
pub fn snippet(language: Language, base_url: &str, request: &Value, with_key: bool) -> String {
    let base = base_url.trim().trim_end_matches('/');
    let url = format!("{base}/process");
    let compact = request.to_string();
    let inline = compact.len() <= INLINE_CHARS;
    match language {
        Language::Curl => {
            let key = if with_key {
                format!(" \\\n  -H 'X-API-Key: {KEY_PLACEHOLDER}'")
            } else {
                String::new()
            };
            let data = if inline {
                format!("'{}'", compact.replace('\'', r"'\''"))
            } else {
                "@request.json".to_owned()
            };
            format!("curl -X POST '{url}' \\\n  -H 'Content-Type: application/json'{key} \\\n  -d {data}")
        }
        Language::Python => {
            let key = if with_key {
                format!(", headers={{\"X-API-Key\": \"{KEY_PLACEHOLDER}\"}}")
            } else {
                String::new()
            };
            let payload = if inline {
                python_literal(request, 0)
            } else {
                "json.load(open(\"request.json\"))".to_owned()
            };
            let import = if inline {
                "import requests"
            } else {
                "import json\nimport requests"
            };
            format!(
                "{import}\n\npayload = {payload}\nresponse = requests.post({}, json=payload{key})\n\
                 response.raise_for_status()\nprint(response.json())",
                Value::from(url.as_str())
            )
        }
        Language::JavaScript => {
            let key = if with_key {
                format!(", \"X-API-Key\": \"{KEY_PLACEHOLDER}\"")
            } else {
                String::new()
            };
            let body = if inline {
                format!("JSON.stringify({})", pretty(request).replace('\n', "\n  "))
            } else {
                "await (await import(\"node:fs/promises\")).readFile(\"request.json\", \"utf8\")".to_owned()
            };
            format!(
                "const response = await fetch({}, {{\n  method: \"POST\",\n  headers: {{ \"Content-Type\": \
                 \"application/json\"{key} }},\n  body: {body},\n}});\nif (!response.ok) throw new \
                 Error(await response.text());\nconsole.log(await response.json());",
                Value::from(url.as_str())
            )
        }
        Language::Rust => rust_snippet(base, request, inline, with_key),
    }
}

fn rust_snippet(base: &str, request: &Value, inline: bool, with_key: bool) -> String {
    let key = if with_key {
        format!("\n        .api_key(\"{KEY_PLACEHOLDER}\")?")
    } else {
        String::new()
    };
    let text = if inline {
        let body = pretty(request);
        let hashes = "#".repeat(longest_hash_run(&body) + 1);
        format!("r{hashes}\"{body}\"{hashes}")
    } else {
        "&std::fs::read_to_string(\"request.json\")?".to_owned()
    };
    format!(
        "// Cargo.toml: easymlserve, tokio (features \"macros\", \"rt-multi-thread\")\n\
         use easymlserve::{{Client, serde_json}};\n\n#[tokio::main]\n\
         async fn main() -> Result<(), Box<dyn std::error::Error>> {{\n    \
         let client = Client::new({})?{key};\n    \
         let request: serde_json::Value = serde_json::from_str({text})?;\n    \
         let answer = client.process_json(&request).await?;\n    println!(\"{{answer}}\");\n    Ok(())\n}}",
        Value::from(base)
    )
}

/// The most `#` that follow a `"` anywhere in `text`.
fn longest_hash_run(text: &str) -> usize {
    text.split('"')
        .skip(1)
        .map(|after| after.chars().take_while(|c| *c == '#').count())
        .max()
        .unwrap_or(0)
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// A Python literal for a JSON value (JSON strings and numbers are valid Python as they are).
fn python_literal(value: &Value, indent: usize) -> String {
    let pad = "    ".repeat(indent + 1);
    let end = "    ".repeat(indent);
    match value {
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        Value::Array(items) if items.is_empty() => "[]".to_owned(),
        Value::Array(items) => {
            let lines: Vec<String> = items
                .iter()
                .map(|v| format!("{pad}{}", python_literal(v, indent + 1)))
                .collect();
            format!("[\n{},\n{end}]", lines.join(",\n"))
        }
        Value::Object(fields) if fields.is_empty() => "{}".to_owned(),
        Value::Object(fields) => {
            let lines: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{pad}{}: {}", Value::from(k.as_str()), python_literal(v, indent + 1)))
                .collect();
            format!("{{\n{},\n{end}}}", lines.join(",\n"))
        }
        other => other.to_string(),
    }
}

/// The panel's state: which language is shown.
pub(crate) struct ApiPanel {
    shown: Language,
}

impl Default for ApiPanel {
    fn default() -> Self {
        Self { shown: Language::Curl }
    }
}

impl ApiPanel {
    /// Draws the collapsible panel for `request` sent to `base_url`.
    pub fn ui(&mut self, ui: &mut egui::Ui, base_url: &str, request: &Value, with_key: bool) {
        egui::CollapsingHeader::new("Use via API")
            .id_salt("use-via-api")
            .show(ui, |ui| {
                ui.weak("The request just sent, to paste into a program; the API key is a placeholder.");
                ui.horizontal(|ui| {
                    for language in Language::ALL {
                        ui.selectable_value(&mut self.shown, language, language.name());
                    }
                });
                let mut text = snippet(self.shown, base_url, request, with_key);
                ui.horizontal(|ui| {
                    if ui.button("Copy").clicked() {
                        ui.ctx().copy_text(text.clone());
                    }
                    if request.to_string().len() > INLINE_CHARS && ui.button("Copy request JSON").clicked() {
                        ui.ctx().copy_text(request.to_string());
                    }
                    let docs = format!("{}/docs", base_url.trim().trim_end_matches('/'));
                    ui.hyperlink_to("All routes: /docs", docs);
                });
                let edit = egui::TextEdit::multiline(&mut text)
                    .code_editor()
                    .desired_width(f32::INFINITY)
                    .interactive(false);
                let label = format!("{} snippet", self.shown.name());
                let response = ui.add(edit);
                response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::TextInput, true, &label));
            });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn request() -> Value {
        json!({"label": "o'clock \"café\" \\ \"# ✓", "x": 2.5, "loud": true, "tags": [], "none": null})
    }

    #[test]
    fn the_curl_command_quotes_any_json_for_the_shell() {
        let curl = snippet(Language::Curl, "http://127.0.0.1:9/", &request(), true);
        assert!(curl.starts_with("curl -X POST 'http://127.0.0.1:9/process'"), "{curl}");
        assert!(curl.contains(&format!("-H 'X-API-Key: {KEY_PLACEHOLDER}'")), "{curl}");
        let quoted = curl.split_once("-d '").unwrap().1.strip_suffix('\'').unwrap();
        let body: Value = serde_json::from_str(&quoted.replace(r"'\''", "'")).unwrap();
        assert_eq!(body, request());
        assert!(!snippet(Language::Curl, "http://h", &request(), false).contains("X-API-Key"));
    }

    #[test]
    fn python_gets_its_own_literals_and_rust_a_raw_string_that_holds() {
        let python = snippet(Language::Python, "http://h", &request(), false);
        assert!(
            python.contains("\"loud\": True") && python.contains("\"none\": None"),
            "{python}"
        );
        assert!(python.contains("\"tags\": []"), "{python}");
        let rust = snippet(Language::Rust, "http://h", &request(), true);
        assert!(rust.contains("r##\"{"), "one more # than the \"# inside: {rust}");
        assert!(rust.contains(&format!(".api_key(\"{KEY_PLACEHOLDER}\")?")), "{rust}");
        let js = snippet(Language::JavaScript, "http://h", &request(), false);
        assert!(js.contains("fetch(\"http://h/process\""), "{js}");
    }

    #[test]
    fn a_long_request_is_read_from_a_file() {
        let long = json!({"pixels": "A".repeat(INLINE_CHARS)});
        assert!(snippet(Language::Curl, "http://h", &long, false).ends_with("-d @request.json"));
        let python = snippet(Language::Python, "http://h", &long, false);
        assert!(python.contains("json.load(open(\"request.json\"))"), "{python}");
        assert!(!python.contains("AAAA"), "the pixels are not in the snippet");
    }
}
