// Input widgets of the web GUI, one per component kind of the UI spec. Each widget knows how to put its
// value into the form data, reset itself and show an error next to itself (marked aria-invalid and
// described by the message, cleared when the user changes the input). File inputs take a click or a
// drop, and show a preview parsed by the server (so a bad file is reported before submitting).
"use strict";

(function () {
  function make(tag, attrs, parent) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v;
      else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    if (parent) parent.appendChild(node);
    return node;
  }

  function formatBytes(n) {
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
    return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  }

  // Renders one input spec; `ctx.preview(name, file)` asks the server to parse a file.
  function render(spec, ctx) {
    const id = `in-${spec.name}`;
    const errorId = `err-${spec.name}`;
    const helpId = `help-${spec.name}`;
    const grouped = spec.kind === "multiple_choice";
    const field = make(grouped ? "fieldset" : "div", { class: "field", id: `field-${spec.name}`, "data-kind": spec.kind });
    const title = spec.label + (spec.required && spec.kind !== "checkbox" ? " *" : "");
    if (spec.kind !== "checkbox") make(grouped ? "legend" : "label", grouped ? { text: title } : { for: id, text: title }, field);
    if (spec.description) make("p", { class: "help", id: helpId, text: spec.description }, field);
    const describedBy = [spec.description ? helpId : null, errorId].filter(Boolean).join(" ");
    const error = make("p", { class: "error", id: errorId, role: "alert" });
    let widget;
    switch (spec.kind) {
      case "text": widget = textWidget(make("input", { type: "text", id, name: spec.name, placeholder: spec.placeholder, "aria-describedby": describedBy }, field), spec); break;
      case "text_long": widget = textWidget(make("textarea", { id, name: spec.name, placeholder: spec.placeholder, spellcheck: spec.json ? "false" : null, "aria-describedby": describedBy }, field), spec); break;
      case "number": widget = numberWidget(field, spec, id, describedBy); break;
      case "range": widget = rangeWidget(field, spec, id, describedBy); break;
      case "single_choice": widget = selectWidget(field, spec, id, describedBy); break;
      case "multiple_choice": widget = choicesWidget(field, spec, describedBy); break;
      case "checkbox": widget = checkboxWidget(field, spec, id, describedBy); break;
      default: widget = ((window.EmsMedia || {})[spec.kind] || fileWidget)(field, spec, id, describedBy, ctx);
    }
    field.appendChild(error);
    // A message about this input goes once the user changes it (the next submit clears it too).
    field.addEventListener("input", () => setError(null));
    field.addEventListener("change", () => setError(null));
    return {
      name: spec.name,
      element: field,
      collect: widget.collect,
      reset: () => { widget.reset(); setError(null); },
      // The visible control: a file input's drop zone rather than its hidden picker.
      focus: () => {
        field.scrollIntoView({ block: "center" });
        (field.querySelector(".drop") || field.querySelector("input, textarea, select") || field).focus({ preventScroll: true });
      },
      setError,
    };

    function setError(message) {
      error.textContent = message || "";
      field.classList.toggle("invalid", Boolean(message));
      field.querySelectorAll("input, textarea, select, .drop").forEach((n) => n.setAttribute("aria-invalid", message ? "true" : "false"));
    }
  }

  function textWidget(node, spec) {
    const reset = () => { node.value = spec.default ?? ""; };
    reset();
    return { collect: (fd) => fd.append(spec.name, node.value), reset };
  }

  function numberWidget(field, spec, id, describedBy) {
    const node = make("input", { type: "number", id, name: spec.name, min: spec.min, max: spec.max, step: spec.step ?? (spec.integer ? 1 : "any"), inputmode: spec.integer ? "numeric" : "decimal", "aria-describedby": describedBy }, field);
    const reset = () => { node.value = spec.default ?? ""; };
    reset();
    return { collect: (fd) => fd.append(spec.name, node.value), reset };
  }

  function rangeWidget(field, spec, id, describedBy) {
    const row = make("div", { class: "range-row" }, field);
    const node = make("input", { type: "range", id, name: spec.name, min: spec.min, max: spec.max, step: spec.step, "aria-describedby": describedBy }, row);
    const out = make("output", { for: id }, row);
    const decimals = String(spec.step).includes(".") ? String(spec.step).split(".")[1].length : 0;
    const show = () => { out.textContent = Number(node.value).toFixed(decimals); node.setAttribute("aria-valuetext", out.textContent); };
    node.addEventListener("input", show);
    const reset = () => { node.value = spec.default ?? (spec.min + spec.max) / 2; show(); };
    reset();
    return { collect: (fd) => fd.append(spec.name, node.value), reset };
  }

  function selectWidget(field, spec, id, describedBy) {
    const node = make("select", { id, name: spec.name, "aria-describedby": describedBy }, field);
    if (!spec.default) make("option", { value: "", text: "Choose…" }, node);
    for (const c of spec.choices) make("option", { value: c, text: c }, node);
    const reset = () => { node.value = spec.default ?? ""; };
    reset();
    return { collect: (fd) => fd.append(spec.name, node.value), reset };
  }

  function choicesWidget(field, spec, describedBy) {
    field.setAttribute("aria-describedby", describedBy);
    const box = make("div", { class: "choices" }, field);
    const nodes = spec.choices.map((c, i) => {
      const label = make("label", {}, box);
      const node = make("input", { type: "checkbox", name: spec.name, value: c, id: `in-${spec.name}-${i}` }, label);
      label.appendChild(document.createTextNode(c));
      return node;
    });
    const reset = () => nodes.forEach((n) => { n.checked = (spec.default || []).includes(n.value); });
    reset();
    return { collect: (fd) => nodes.filter((n) => n.checked).forEach((n) => fd.append(spec.name, n.value)), reset };
  }

  function checkboxWidget(field, spec, id, describedBy) {
    const label = make("label", { class: "check", for: id }, field);
    const node = make("input", { type: "checkbox", id, name: spec.name, "aria-describedby": describedBy }, label);
    label.appendChild(document.createTextNode(spec.label));
    const reset = () => { node.checked = Boolean(spec.default); };
    reset();
    return { collect: (fd) => fd.append(spec.name, node.checked ? "true" : "false"), reset };
  }

  function acceptFor(spec) {
    const ext = { image_file: ["png", "jpg", "jpeg", "tif", "tiff"], csv_file: ["csv", "txt"], time_series_csv_file: ["csv", "txt"] }[spec.kind] || spec.extensions || [];
    return ext.map((e) => `.${e}`).join(",");
  }

  function fileWidget(field, spec, id, describedBy, ctx) {
    const accept = acceptFor(spec);
    const picker = make("input", { type: "file", id, name: spec.name, accept: accept || null, class: "visually-hidden", tabindex: "-1", "aria-describedby": describedBy }, field);
    const drop = make("div", { class: "drop", tabindex: "0", role: "button", "aria-describedby": describedBy, "aria-label": `${spec.label}: choose or drop a file` }, field);
    const hint = accept ? ` (${accept.replaceAll(",", ", ")})` : "";
    const preview = make("div", { class: "preview", "aria-live": "polite" }, field);
    let chosen = null;

    const showEmpty = () => {
      drop.replaceChildren(document.createTextNode(`Drop a file here or click to choose${hint}`));
    };
    const choose = (file) => {
      chosen = file;
      drop.replaceChildren();
      make("span", { class: "file-name", text: file.name }, drop);
      drop.appendChild(document.createTextNode(` · ${formatBytes(file.size)} · click to change`));
      preview.replaceChildren(make("span", { class: "status", text: "Reading the file…" }));
      ctx.preview(spec.name, file, preview);
    };
    drop.addEventListener("click", () => picker.click());
    drop.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); picker.click(); } });
    picker.addEventListener("change", () => { if (picker.files.length) choose(picker.files[0]); });
    drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (ev) => {
      ev.preventDefault();
      drop.classList.remove("over");
      if (ev.dataTransfer.files.length) choose(ev.dataTransfer.files[0]);
    });
    const reset = () => { chosen = null; picker.value = ""; preview.replaceChildren(); showEmpty(); };
    reset();
    return { collect: (fd) => { if (chosen) fd.append(spec.name, chosen, chosen.name); }, reset };
  }

  window.EmsInputs = { render, make, formatBytes, fileWidget };
})();
