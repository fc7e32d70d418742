//! The `Markdown` output's value: Markdown parsed in Rust (pulldown-cmark) into a small tree of safe
//! blocks and inlines, which the web page builds with `textContent` only and the desktop GUI with
//! egui widgets. Raw HTML is kept as plain text, images become their alt text, links keep only
//! `http`, `https`, `mailto` or relative targets, and nesting deeper than [`MAX_DEPTH`] is
//! flattened, so no model card can run a script or load anything (issue 18).

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

/// Deepest nesting of lists and quotes kept; deeper content joins its parent as text.
pub const MAX_DEPTH: usize = 12;

/// A block of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// `#` to `######`.
    Heading {
        /// 1 to 6.
        level: u8,
        /// The text.
        content: Vec<Inline>,
    },
    /// A paragraph.
    Paragraph {
        /// The text.
        content: Vec<Inline>,
    },
    /// A bulleted or numbered list; each item is a list of blocks.
    List {
        /// The number of the first item, for a numbered list.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start: Option<u64>,
        /// The items.
        items: Vec<Vec<Block>>,
    },
    /// A fenced or indented code block.
    Code {
        /// The language after the fence, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        language: Option<String>,
        /// The code.
        text: String,
    },
    /// A `>` quote.
    Quote {
        /// What it quotes.
        blocks: Vec<Block>,
    },
    /// A table: a header row and body rows of cells.
    Table {
        /// Header cells.
        head: Vec<Vec<Inline>>,
        /// Body rows.
        rows: Vec<Vec<Vec<Inline>>>,
    },
    /// A horizontal rule.
    Rule,
}

/// A run of text inside a block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Inline {
    /// Plain text (raw HTML in the source lands here, as text).
    Text {
        /// The text.
        text: String,
    },
    /// `*emphasis*`.
    Emphasis {
        /// What is emphasised.
        content: Vec<Inline>,
    },
    /// `**strong**`.
    Strong {
        /// What is strong.
        content: Vec<Inline>,
    },
    /// `` `code` ``.
    Code {
        /// The code.
        text: String,
    },
    /// A link whose target passed [`safe_href`].
    Link {
        /// The target.
        href: String,
        /// The link text.
        content: Vec<Inline>,
    },
    /// A hard line break.
    Break,
}

/// The value of a `Markdown` output.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Markdown {
    /// The document's blocks, in order.
    pub blocks: Vec<Block>,
}

/// Whether a link target may be followed: `http:`, `https:`, `mailto:` or no scheme at all (a
/// relative path or `#anchor`). Browsers ignore tabs, newlines and leading spaces in a scheme, so
/// they are ignored here too before it is compared.
pub fn safe_href(href: &str) -> bool {
    let cleaned: String = href
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .collect();
    let end = cleaned.find([':', '/', '?', '#']);
    match end {
        Some(i) if cleaned[i..].starts_with(':') => {
            matches!(cleaned[..i].to_ascii_lowercase().as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    }
}

impl Markdown {
    /// Parses CommonMark (with tables and strikethrough, shown as plain text) into the safe tree.
    pub fn parse(source: &str) -> Self {
        let mut options = Options::empty();
        options.insert(Options::ENABLE_TABLES);
        options.insert(Options::ENABLE_STRIKETHROUGH);
        let mut stack = vec![Frame::Blocks(Vec::new())];
        for event in Parser::new_ext(source, options) {
            match event {
                Event::Start(tag) => {
                    let frame = if stack.len() > MAX_DEPTH {
                        Frame::Flat(Vec::new())
                    } else {
                        open(tag)
                    };
                    stack.push(frame);
                }
                Event::End(end) => {
                    if stack.len() > 1
                        && let Some(frame) = stack.pop()
                    {
                        close(frame, end, top(&mut stack));
                    }
                }
                Event::Text(t)
                | Event::Html(t)
                | Event::InlineHtml(t)
                | Event::InlineMath(t)
                | Event::DisplayMath(t) => {
                    top(&mut stack).text(&t);
                }
                Event::Code(t) => top(&mut stack).inline(Inline::Code { text: t.to_string() }),
                Event::SoftBreak => top(&mut stack).text(" "),
                Event::HardBreak => top(&mut stack).inline(Inline::Break),
                Event::Rule => top(&mut stack).block(Block::Rule),
                Event::TaskListMarker(done) => top(&mut stack).text(if done { "[x] " } else { "[ ] " }),
                Event::FootnoteReference(name) => top(&mut stack).text(&format!("[{name}]")),
            }
        }
        // Unclosed frames (the parser always closes them) would be folded into the root.
        while stack.len() > 1 {
            if let Some(frame) = stack.pop() {
                let inlines = frame.into_inlines();
                top(&mut stack).inlines(inlines);
            }
        }
        match stack.pop() {
            Some(Frame::Blocks(blocks)) => Self { blocks },
            _ => Self::default(),
        }
    }

    /// The document's text without markup, e.g. for a test or a screen reader summary.
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        for b in &self.blocks {
            block_text(b, &mut out);
        }
        out
    }
}

/// A partly built node.
enum Frame {
    /// The document, a quote, or a list item (whose loose text becomes a paragraph).
    Blocks(Vec<Block>),
    Quote(Vec<Block>),
    Item(Vec<Block>, Vec<Inline>),
    List(Option<u64>, Vec<Vec<Block>>),
    Heading(u8, Vec<Inline>),
    Paragraph(Vec<Inline>),
    Code(Option<String>, String),
    Emphasis(Vec<Inline>),
    Strong(Vec<Inline>),
    Link(Option<String>, Vec<Inline>),
    Table(Vec<Vec<Inline>>, Vec<Vec<Vec<Inline>>>),
    Row(Vec<Vec<Inline>>),
    Cell(Vec<Inline>),
    /// Anything else (images, strikethrough, footnotes, too deep): its text joins the parent.
    Flat(Vec<Inline>),
}

fn top(stack: &mut [Frame]) -> &mut Frame {
    // The root frame is never popped, so the stack is never empty.
    let last = stack.len() - 1;
    &mut stack[last]
}

fn open(tag: Tag<'_>) -> Frame {
    match tag {
        Tag::Paragraph | Tag::HtmlBlock => Frame::Paragraph(Vec::new()),
        Tag::Heading { level, .. } => Frame::Heading(heading_level(level), Vec::new()),
        Tag::BlockQuote(_) => Frame::Quote(Vec::new()),
        Tag::CodeBlock(kind) => Frame::Code(
            match kind {
                CodeBlockKind::Fenced(lang) if !lang.trim().is_empty() => Some(lang.trim().to_owned()),
                _ => None,
            },
            String::new(),
        ),
        Tag::List(start) => Frame::List(start, Vec::new()),
        Tag::Item => Frame::Item(Vec::new(), Vec::new()),
        Tag::Emphasis => Frame::Emphasis(Vec::new()),
        Tag::Strong => Frame::Strong(Vec::new()),
        Tag::Link { dest_url, .. } => Frame::Link(safe_href(&dest_url).then(|| dest_url.to_string()), Vec::new()),
        Tag::Table(_) => Frame::Table(Vec::new(), Vec::new()),
        Tag::TableHead | Tag::TableRow => Frame::Row(Vec::new()),
        Tag::TableCell => Frame::Cell(Vec::new()),
        _ => Frame::Flat(Vec::new()),
    }
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

/// Finishes `frame` and hands the node to its parent.
fn close(frame: Frame, end: TagEnd, parent: &mut Frame) {
    match frame {
        Frame::Paragraph(content) if !content.is_empty() => parent.block(Block::Paragraph { content }),
        Frame::Paragraph(_) => {}
        Frame::Heading(level, content) => parent.block(Block::Heading { level, content }),
        Frame::Quote(blocks) => parent.block(Block::Quote { blocks }),
        Frame::Code(language, text) => parent.block(Block::Code { language, text }),
        Frame::List(start, items) => parent.block(Block::List { start, items }),
        Frame::Item(mut blocks, loose) => {
            if !loose.is_empty() {
                blocks.insert(0, Block::Paragraph { content: loose });
            }
            match parent {
                Frame::List(_, items) => items.push(blocks),
                other => other.blocks(blocks),
            }
        }
        Frame::Emphasis(content) => parent.inline(Inline::Emphasis { content }),
        Frame::Strong(content) => parent.inline(Inline::Strong { content }),
        Frame::Link(Some(href), content) => parent.inline(Inline::Link { href, content }),
        Frame::Link(None, content) | Frame::Flat(content) => parent.inlines(content),
        Frame::Table(head, rows) => parent.block(Block::Table { head, rows }),
        Frame::Row(cells) => match parent {
            Frame::Table(head, _) if end == TagEnd::TableHead => *head = cells,
            Frame::Table(_, rows) => rows.push(cells),
            other => other.inlines(cells.into_iter().flatten().collect()),
        },
        Frame::Cell(content) => match parent {
            Frame::Row(cells) => cells.push(content),
            other => other.inlines(content),
        },
        Frame::Blocks(blocks) => parent.blocks(blocks),
    }
}

impl Frame {
    fn text(&mut self, text: &str) {
        if let Frame::Code(_, code) = self {
            code.push_str(text);
            return;
        }
        self.inline(Inline::Text { text: text.to_owned() });
    }

    fn inlines(&mut self, inlines: Vec<Inline>) {
        for i in inlines {
            self.inline(i);
        }
    }

    fn inline(&mut self, inline: Inline) {
        match self {
            Frame::Item(_, loose)
            | Frame::Heading(_, loose)
            | Frame::Paragraph(loose)
            | Frame::Emphasis(loose)
            | Frame::Strong(loose)
            | Frame::Link(_, loose)
            | Frame::Cell(loose)
            | Frame::Flat(loose) => {
                // Adjacent text runs merge, so "a <b> c" stays one run.
                if let (Inline::Text { text }, Some(Inline::Text { text: last })) = (&inline, loose.last_mut()) {
                    last.push_str(text);
                } else {
                    loose.push(inline);
                }
            }
            Frame::Code(_, code) => inline_text(&inline, code),
            Frame::Blocks(blocks) | Frame::Quote(blocks) => match blocks.last_mut() {
                Some(Block::Paragraph { content }) if matches!(inline, Inline::Text { .. }) => {
                    content.push(inline);
                }
                _ => blocks.push(Block::Paragraph { content: vec![inline] }),
            },
            Frame::List(_, items) => items.push(vec![Block::Paragraph { content: vec![inline] }]),
            Frame::Table(_, rows) => rows.push(vec![vec![inline]]),
            Frame::Row(cells) => cells.push(vec![inline]),
        }
    }

    fn blocks(&mut self, blocks: Vec<Block>) {
        for b in blocks {
            self.block(b);
        }
    }

    fn block(&mut self, block: Block) {
        match self {
            Frame::Blocks(blocks) | Frame::Quote(blocks) => blocks.push(block),
            Frame::Item(blocks, loose) => {
                if !loose.is_empty() {
                    blocks.push(Block::Paragraph {
                        content: std::mem::take(loose),
                    });
                }
                blocks.push(block);
            }
            Frame::List(_, items) => items.push(vec![block]),
            other => {
                let mut text = String::new();
                block_text(&block, &mut text);
                other.text(text.trim_end());
            }
        }
    }

    fn into_inlines(self) -> Vec<Inline> {
        let mut text = String::new();
        match self {
            Frame::Item(_, i)
            | Frame::Heading(_, i)
            | Frame::Paragraph(i)
            | Frame::Emphasis(i)
            | Frame::Strong(i)
            | Frame::Link(_, i)
            | Frame::Cell(i)
            | Frame::Flat(i) => return i,
            Frame::Code(_, code) => text = code,
            Frame::Blocks(b) | Frame::Quote(b) => b.iter().for_each(|b| block_text(b, &mut text)),
            Frame::List(_, items) => items.iter().flatten().for_each(|b| block_text(b, &mut text)),
            Frame::Table(..) | Frame::Row(_) => {}
        }
        vec![Inline::Text { text }]
    }
}

fn inline_text(inline: &Inline, out: &mut String) {
    match inline {
        Inline::Text { text } | Inline::Code { text } => out.push_str(text),
        Inline::Emphasis { content } | Inline::Strong { content } | Inline::Link { content, .. } => {
            content.iter().for_each(|i| inline_text(i, out));
        }
        Inline::Break => out.push('\n'),
    }
}

fn block_text(block: &Block, out: &mut String) {
    let line = |content: &[Inline], out: &mut String| {
        content.iter().for_each(|i| inline_text(i, out));
        out.push('\n');
    };
    match block {
        Block::Heading { content, .. } | Block::Paragraph { content } => line(content, out),
        Block::List { items, .. } => items.iter().flatten().for_each(|b| block_text(b, out)),
        Block::Code { text, .. } => out.push_str(text),
        Block::Quote { blocks } => blocks.iter().for_each(|b| block_text(b, out)),
        Block::Table { head, rows } => {
            for row in std::iter::once(head).chain(rows) {
                for cell in row {
                    cell.iter().for_each(|i| inline_text(i, out));
                    out.push('\t');
                }
                out.push('\n');
            }
        }
        Block::Rule => out.push_str("---\n"),
    }
}
