// Output widgets of the web GUI: plots (interactive), images with a label overlay, formatted numbers,
// text, tables, JSON and file downloads. Values arrive as `{"name", "kind", "value"}` entries.
"use strict";

(function () {
  const make = (...args) => window.EmsInputs.make(...args);

  function bytesFromBase64(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function downloadButton(parent, label, name, blob) {
    const a = make("a", { class: "button small", download: name, text: label }, parent);
    a.href = URL.createObjectURL(blob);
    return a;
  }

  // An empty slot for each output spec, filled by `show`.
  function slot(spec) {
    const box = make("div", { class: "output", id: `out-${spec.name}`, "data-kind": spec.kind });
    make("h3", { text: spec.label }, box);
    if (spec.description) make("p", { class: "help", text: spec.description }, box);
    const body = make("div", { class: "output-body" }, box);
    make("p", { class: "empty", text: "Submit the form to see this result." }, body);
    return { element: box, body, spec };
  }

  // The plots of one result share a name -> colour map; a result starts again when a plot slot that
  // already drew into the current map is shown a second time (the next submit).
  let colours = null;
  const coloured = new Set();
  function plotColours(body) {
    if (!colours || coloured.has(body)) { colours = window.EmsPlot.colourMap(); coloured.clear(); }
    coloured.add(body);
    return colours;
  }

  function show(slotRef, value) {
    const { body, spec } = slotRef;
    body.replaceChildren();
    switch (spec.kind) {
      case "plot": window.EmsPlot.create(body, value, plotColours(body)); break;
      case "image": image(body, value, spec); break;
      case "number": number(body, value, spec); break;
      case "text": make("pre", { class: "text-value", text: value }, body); break;
      case "table": table(body, value, spec); break;
      case "json": json(body, value, spec); break;
      case "file": file(body, value); break;
      case "label": window.EmsRich.label(body, value, spec); break;
      case "gallery": window.EmsRich.gallery(body, value, spec); break;
      case "annotated_image": window.EmsRich.annotated(body, value, spec); break;
      case "markdown": window.EmsRich.markdown(body, value); break;
      case "audio": window.EmsMedia.showAudio(body, value, spec); break;
      default: make("pre", { text: JSON.stringify(value, null, 2) }, body);
    }
  }

  // A number with the output's precision and unit (numbers.js); a click or Enter copies the full value.
  function number(body, value, spec) {
    const N = window.EmsNumbers;
    const x = N.parse(value);
    const text = x === null ? "–" : N.format(x, N.columnDigits([x], spec.precision));
    const shown = spec.unit ? `${text} ${spec.unit}` : text;
    const p = make("p", { class: "number-value", text: shown }, body);
    if (x !== null) {
      p.setAttribute("tabindex", "0");
      N.copyable(p, String(x), shown, N.statusFor(make("div", { class: "row" }, body)));
    }
  }

  function image(body, value, spec) {
    const stage = make("div", { class: "image-stage" }, body);
    const base = make("img", { alt: spec.label, width: value.width, height: value.height, src: `data:image/png;base64,${value.png}` }, stage);
    let overlay = null;
    const row = make("div", { class: "row" }, body);
    if (value.overlay_png) {
      overlay = make("img", { class: "overlay", alt: "", width: value.width, height: value.height, src: `data:image/png;base64,${value.overlay_png}` }, stage);
      const id = `opacity-${spec.name}`;
      make("label", { for: id, text: "Overlay" }, row);
      const slider = make("input", { type: "range", id, min: 0, max: 1, step: 0.05, value: 0.5 }, row);
      const apply = () => { overlay.style.opacity = slider.value; };
      slider.addEventListener("input", apply);
      apply();
    }
    const zoomId = `zoom-${spec.name}`;
    make("label", { for: zoomId, text: "Zoom" }, row);
    const zoom = make("select", { id: zoomId }, row);
    for (const [v, t] of [["fit", "Fit"], ["1", "100%"], ["2", "200%"], ["4", "400%"]]) make("option", { value: v, text: t }, zoom);
    const applyZoom = () => {
      // "Fit" fills the panel's width (small images are enlarged), at most 480 px high.
      let w = value.width * Number(zoom.value);
      if (zoom.value === "fit") {
        w = body.clientWidth || value.width;
        if ((w / value.width) * value.height > 480) w = (480 / value.height) * value.width;
      }
      const h = (w / value.width) * value.height;
      for (const img of [base, overlay].filter(Boolean)) { img.style.width = `${w}px`; img.style.height = `${h}px`; }
    };
    zoom.addEventListener("change", applyZoom);
    requestAnimationFrame(applyZoom);
    downloadButton(row, "Download PNG", `${spec.name}.png`, new Blob([bytesFromBase64(value.png)], { type: "image/png" }));
  }

  // A table; numeric cells show their column's digits (its format's precision, else the most its
  // values need) right-aligned, the unit goes in the header, and a click or Enter copies the cell.
  function table(body, value, spec) {
    const N = window.EmsNumbers;
    const formats = value.formats || {};
    const wrap = make("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": spec.label }, body);
    const t = make("table", {}, wrap);
    const head = make("tr", {}, make("thead", {}, t));
    const shown = value.rows.slice(0, 500);
    const digits = value.columns.map((c, i) => {
      const numbers = shown.map((r) => N.parse(r[i])).filter((x) => x !== null);
      return { numeric: numbers.length > 0, digits: N.columnDigits(numbers, (formats[c] || {}).precision) };
    });
    value.columns.forEach((c, i) => {
      const unit = (formats[c] || {}).unit;
      make("th", { scope: "col", class: digits[i].numeric ? "num" : "", text: unit ? `${c} [${unit}]` : c }, head);
    });
    const tbody = make("tbody", {}, t);
    const row = make("div", { class: "row" }, body);
    const status = N.statusFor(row);
    for (const r of shown) {
      const tr = make("tr", {}, tbody);
      r.forEach((cell, i) => {
        const x = N.parse(cell);
        if (x === null) { make("td", { text: cell }, tr); return; }
        const text = N.format(x, digits[i].digits);
        N.copyable(make("td", { class: "num", text }, tr), cell.trim(), text, status);
      });
    }
    N.gridKeys(t);
    make("span", { class: "help", text: `${value.rows.length} rows${value.rows.length > shown.length ? `, first ${shown.length} shown` : ""}` }, row);
    const csv = [value.columns, ...value.rows].map((r) => r.map((c) => (/[",\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(",")).join("\n");
    downloadButton(row, "Download CSV", `${spec.name}.csv`, new Blob([csv + "\n"], { type: "text/csv" }));
  }

  function json(body, value, spec) {
    const text = JSON.stringify(value, null, 2);
    make("pre", { class: "json-value", tabindex: "0", text }, body);
    const row = make("div", { class: "row" }, body);
    downloadButton(row, "Download JSON", `${spec.name}.json`, new Blob([text + "\n"], { type: "application/json" }));
  }

  function file(body, value) {
    const bytes = bytesFromBase64(value.data);
    const row = make("div", { class: "row" }, body);
    const a = downloadButton(row, `Download ${value.name}`, value.name, new Blob([bytes], { type: value.mime }));
    a.classList.add("file-download");
    make("span", { class: "help", text: `${value.mime}, ${window.EmsInputs.formatBytes(bytes.length)}` }, row);
  }

  window.EmsOutputs = { slot, show, bytesFromBase64 };
})();
