// Rich output widgets of the web GUI (issue 18): Label (the top classes as bars, the percentage
// written out), Gallery (thumbnails; a click opens a larger view in a <dialog>), AnnotatedImage
// (boxes and masks over the image in the shared palette, and a legend) and Markdown (the DOM built
// from the server's safe block tree with text nodes only; never innerHTML).
"use strict";

(function () {
  const make = (...args) => window.EmsInputs.make(...args);

  // ---- Label ----
  function label(body, value, spec) {
    const k = spec.top_k ?? 5;
    const score = (c) => (Number.isFinite(c.confidence) ? c.confidence : -Infinity);
    const classes = [...(value.classes || [])].sort((a, b) => score(b) - score(a)).slice(0, k);
    const list = make("ol", { class: "label-list", "aria-label": spec.label }, body);
    for (const c of classes) {
      const finite = Number.isFinite(c.confidence);
      const share = finite ? Math.min(1, Math.max(0, c.confidence)) : 0;
      const percent = finite ? `${(c.confidence * 100).toFixed(1)}%` : "–";
      const row = make("li", { class: "label-row" }, list);
      make("span", { class: "label-name", text: c.label }, row);
      const track = make("span", {
        class: "label-track", role: "progressbar", "aria-label": c.label,
        "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": (share * 100).toFixed(1), "aria-valuetext": percent,
      }, row);
      const bar = make("span", { class: "label-bar", "data-confidence": String(share) }, track);
      bar.style.width = `${share * 100}%`;
      make("span", { class: "label-percent", text: percent }, row);
    }
    if (!classes.length) make("p", { class: "empty", text: "No classes." }, body);
  }

  // ---- Gallery ----
  function gallery(body, value, spec) {
    const items = value.items || [];
    const grid = make("ul", { class: "gallery-grid", "aria-label": spec.label }, body);
    const dialog = make("dialog", { class: "gallery-view", "aria-label": `${spec.label}: enlarged picture` }, body);
    const big = make("img", { class: "gallery-big", alt: "" }, dialog);
    const caption = make("p", { class: "gallery-caption" }, dialog);
    const close = make("button", { type: "button", class: "gallery-close", text: "Close" }, dialog);
    let opener = null;
    close.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => { if (opener) opener.focus(); });
    // A click on the backdrop (outside the picture's box) closes too.
    dialog.addEventListener("click", (e) => { if (e.target === dialog) dialog.close(); });
    items.forEach((item, i) => {
      const text = item.caption || `Picture ${i + 1}`;
      const cell = make("li", { class: "gallery-item" }, grid);
      const button = make("button", { type: "button", class: "gallery-thumb", "aria-label": `Enlarge ${text}`, "data-index": i }, cell);
      const src = `data:image/png;base64,${item.image.png}`;
      make("img", { alt: text, src, width: item.image.width, height: item.image.height }, button);
      make("span", { class: "gallery-text", text: item.caption || "" }, cell);
      button.addEventListener("click", () => {
        opener = button;
        big.src = src;
        big.alt = text;
        big.width = item.image.width;
        big.height = item.image.height;
        caption.textContent = `${item.caption || ""} (${item.image.width} x ${item.image.height} px)`.trim();
        dialog.showModal();
        close.focus();
      });
    });
  }

  // ---- AnnotatedImage ----
  // Black or white text, whichever reads better on `hex`.
  function textOn(hex) {
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
      .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 ? "#000000" : "#ffffff";
  }

  function tintedMask(stage, png, colour, width, height) {
    const canvas = make("canvas", { class: "annotation-mask", width, height, "aria-hidden": "true" }, stage);
    const img = new Image();
    img.onload = () => {
      const ctx = canvas.getContext("2d");
      ctx.drawImage(img, 0, 0, width, height);
      ctx.globalCompositeOperation = "source-in";
      ctx.fillStyle = colour;
      ctx.fillRect(0, 0, width, height);
    };
    img.src = `data:image/png;base64,${png}`;
  }

  function annotated(body, value, spec) {
    const { image } = value;
    const w = image.width || 1;
    const h = image.height || 1;
    const stage = make("div", { class: "annotated-stage" }, body);
    make("img", { alt: spec.label, width: w, height: h, src: `data:image/png;base64,${image.png}` }, stage);
    const colourOf = window.EmsPlot.colourMap();
    const legend = new Map();
    for (const a of value.annotations || []) {
      const colour = colourOf({ name: a.label });
      const entry = legend.get(a.label) || { colour, count: 0 };
      entry.count += 1;
      legend.set(a.label, entry);
      if (a.mask_png) tintedMask(stage, a.mask_png, colour, w, h);
      if (!a.box) continue;
      const text = Number.isFinite(a.score) ? `${a.label} ${Math.round(a.score * 100)}%` : a.label;
      const box = make("div", { class: "annotation-box", "data-label": a.label, role: "img", "aria-label": text }, stage);
      box.style.left = `${(a.box.x / w) * 100}%`;
      box.style.top = `${(a.box.y / h) * 100}%`;
      box.style.width = `${(a.box.width / w) * 100}%`;
      box.style.height = `${(a.box.height / h) * 100}%`;
      box.style.borderColor = colour;
      const tag = make("span", { class: "annotation-tag", text }, box);
      tag.style.background = colour;
      tag.style.color = textOn(colour);
    }
    const list = make("ul", { class: "annotation-legend", "aria-label": `${spec.label}: labels` }, body);
    for (const [name, { colour, count }] of legend) {
      const li = make("li", {}, list);
      make("span", { class: "swatch", "aria-hidden": "true" }, li).style.background = colour;
      make("span", { text: `${name} (${count})` }, li);
    }
  }

  // ---- Markdown ----
  // The server keeps only these targets; checked again so a hand-built tree cannot slip one in.
  function safeHref(href) {
    try {
      return ["http:", "https:", "mailto:"].includes(new URL(href, document.baseURI).protocol);
    } catch {
      return false;
    }
  }

  function inlines(parent, runs, depth) {
    for (const run of runs || []) {
      if (depth > 40) { parent.append(document.createTextNode("…")); return; }
      switch (run.type) {
        case "text": parent.append(document.createTextNode(run.text)); break;
        case "code": make("code", { text: run.text }, parent); break;
        case "emphasis": inlines(make("em", {}, parent), run.content, depth + 1); break;
        case "strong": inlines(make("strong", {}, parent), run.content, depth + 1); break;
        case "break": make("br", {}, parent); break;
        case "link": {
          const a = safeHref(run.href) ? make("a", { href: run.href, rel: "noopener noreferrer" }, parent) : make("span", {}, parent);
          inlines(a, run.content, depth + 1);
          break;
        }
        default: break;
      }
    }
  }

  function blocks(parent, list, depth) {
    for (const b of list || []) {
      if (depth > 40) return;
      switch (b.type) {
        case "heading": inlines(make(`h${Math.min(6, 3 + Math.max(1, b.level))}`, {}, parent), b.content, depth); break;
        case "paragraph": inlines(make("p", {}, parent), b.content, depth); break;
        case "list": {
          const l = make(b.start != null ? "ol" : "ul", b.start != null ? { start: b.start } : {}, parent);
          for (const item of b.items || []) blocks(make("li", {}, l), item, depth + 1);
          break;
        }
        case "code": make("code", { text: b.text }, make("pre", { class: "md-code", tabindex: "0" }, parent)); break;
        case "quote": blocks(make("blockquote", {}, parent), b.blocks, depth + 1); break;
        case "rule": make("hr", {}, parent); break;
        case "table": {
          const t = make("table", {}, make("div", { class: "table-wrap", tabindex: "0" }, parent));
          const head = make("tr", {}, make("thead", {}, t));
          for (const cell of b.head || []) inlines(make("th", { scope: "col" }, head), cell, depth);
          const tbody = make("tbody", {}, t);
          for (const row of b.rows || []) {
            const tr = make("tr", {}, tbody);
            for (const cell of row) inlines(make("td", {}, tr), cell, depth);
          }
          break;
        }
        default: break;
      }
    }
  }

  function markdown(body, value) {
    blocks(make("div", { class: "markdown" }, body), value.blocks, 0);
  }

  window.EmsRich = { label, gallery, annotated, markdown };
})();
