//! The Markdown output's safe subset (issue 18): what the parser keeps of headings, emphasis,
//! lists, code, quotes, tables and links, and what it refuses to pass on: raw HTML, images,
//! `javascript:` and other link schemes, and nesting deep enough to overflow a reader.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use easymlserve_ui::{MAX_DEPTH, Markdown, safe_href};
use serde_json::json;

#[test]
fn headings_paragraphs_emphasis_lists_code_links_and_tables() {
    let doc = Markdown::parse(
        "# Model card\n\nA *small* **classifier** with `3` classes; see [the docs](https://example.org/d).\n\n\
         - one\n- two\n\n3. three\n\n```python\nprint(1)\n```\n\n> quoted\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n---\n",
    );
    let wire = serde_json::to_value(&doc).unwrap();
    assert_eq!(
        wire["blocks"][0],
        json!({"type": "heading", "level": 1, "content": [{"type": "text", "text": "Model card"}]})
    );
    let para = &wire["blocks"][1]["content"];
    assert_eq!(
        para[1],
        json!({"type": "emphasis", "content": [{"type": "text", "text": "small"}]})
    );
    assert_eq!(para[3]["type"], "strong");
    assert_eq!(para[5], json!({"type": "code", "text": "3"}));
    assert_eq!(para[7]["href"], "https://example.org/d");
    assert_eq!(wire["blocks"][2]["items"].as_array().unwrap().len(), 2);
    assert_eq!(wire["blocks"][2].get("start"), None);
    assert_eq!(wire["blocks"][3]["start"], 3);
    assert_eq!(
        wire["blocks"][4],
        json!({"type": "code", "language": "python", "text": "print(1)\n"})
    );
    assert_eq!(wire["blocks"][5]["type"], "quote");
    assert_eq!(wire["blocks"][6]["head"][1], json!([{"type": "text", "text": "b"}]));
    assert_eq!(wire["blocks"][6]["rows"][0][0], json!([{"type": "text", "text": "1"}]));
    assert_eq!(wire["blocks"][7], json!({"type": "rule"}));
    let back: Markdown = serde_json::from_value(wire).unwrap();
    assert_eq!(back, doc);
}

#[test]
fn html_stays_text_and_unsafe_links_and_images_lose_their_targets() {
    let doc = Markdown::parse(
        "<script>alert(1)</script>\n\nHi <img src=x onerror=alert(2)> there \
         [click](javascript:alert(3)) [tab](java\tscript:alert(4)) [ok](/docs/#x) \
         ![alt text](https://tracker.example/pixel.png)",
    );
    let wire = serde_json::to_string(&doc).unwrap();
    assert!(!wire.contains("\"href\":\"javascript"), "{wire}");
    assert!(!wire.contains("tracker.example"), "images are not loaded: {wire}");
    let text = doc.plain_text();
    assert!(text.contains("<script>alert(1)</script>"), "{text}");
    assert!(text.contains("Hi <img src=x onerror=alert(2)> there click"), "{text}");
    assert!(text.contains("alt text"), "{text}");
    assert!(wire.contains("\"href\":\"/docs/#x\""), "{wire}");
    for (href, ok) in [
        ("https://a.b/c", true),
        ("HTTP://a", true),
        ("mailto:x@y.z", true),
        ("relative/path:with-colon", true),
        ("#top", true),
        ("javascript:alert(1)", false),
        (" JaVaScRiPt:alert(1)", false),
        ("java\nscript:x", false),
        ("data:text/html,<script>", false),
        ("vbscript:x", false),
    ] {
        assert_eq!(safe_href(href), ok, "{href:?}");
    }
}

#[test]
fn deep_nesting_is_flattened_not_kept() {
    let source = format!("{}deep", "> ".repeat(200));
    let doc = Markdown::parse(&source);
    let wire = serde_json::to_string(&doc).unwrap();
    assert!(wire.matches("\"quote\"").count() <= MAX_DEPTH, "{wire}");
    assert!(doc.plain_text().contains("deep"));
    // The desktop GUI reads the tree back with serde_json's recursion limit.
    let _: Markdown = serde_json::from_str(&wire).unwrap();
    let list = format!(
        "{}x",
        (0..100)
            .map(|i| format!("{}- ", "  ".repeat(i)))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let doc = Markdown::parse(&list);
    let _: Markdown = serde_json::from_str(&serde_json::to_string(&doc).unwrap()).unwrap();
}
