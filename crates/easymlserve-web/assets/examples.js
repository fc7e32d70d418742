// Examples to click (issue 18 item 1): lists the UI's examples under the form, each with a thumbnail or its
// first values. A click fills every input the example names: texts directly, files fetched from
// /ui/examples/{i}/files/{input} and put on the file input with a DataTransfer, so the normal submit path
// (and the preview) run as if the user had chosen them. When the server caches the examples' outputs
// (--cache-examples), the click also shows /ui/examples/{i}/result at once, without a submit.
"use strict";

(function () {
  const make = (...args) => window.EmsInputs.make(...args);

  // Sets a text-like control and tells the widget (range outputs, error messages) it changed.
  function setValue(node, value) {
    node.value = value;
    node.dispatchEvent(new Event("input", { bubbles: true }));
    node.dispatchEvent(new Event("change", { bubbles: true }));
  }

  function fillTexts(field, name, texts) {
    const kind = field.dataset.kind;
    if (kind === "multiple_choice") {
      field.querySelectorAll(`input[name="${CSS.escape(name)}"]`).forEach((n) => { n.checked = texts.includes(n.value); });
      field.dispatchEvent(new Event("change", { bubbles: true }));
      return;
    }
    const node = field.querySelector(`#in-${CSS.escape(name)}`);
    if (!node) return;
    if (kind === "checkbox") {
      node.checked = ["true", "on", "1", "yes"].includes((texts[0] || "").trim());
      node.dispatchEvent(new Event("change", { bubbles: true }));
    } else {
      setValue(node, texts[0] ?? "");
    }
  }

  async function fillFile(index, field, name, fileName, ctx) {
    const picker = field.querySelector(`#in-${CSS.escape(name)}`);
    if (!picker) return;
    const response = await fetch(`examples/${index}/files/${encodeURIComponent(name)}`);
    if (!response.ok) throw new Error((await ctx.readError(response)).error);
    const blob = await response.blob();
    const transfer = new DataTransfer();
    transfer.items.add(new File([blob], fileName, { type: blob.type }));
    picker.files = transfer.files;
    picker.dispatchEvent(new Event("change", { bubbles: true }));
  }

  // Fills the form with example `index`; with cached outputs, shows them too.
  async function use(index, example, spec, ctx, button) {
    const list = button.closest(".examples");
    list.querySelectorAll("button[aria-pressed]").forEach((b) => b.setAttribute("aria-pressed", "false"));
    button.setAttribute("aria-pressed", "true");
    ctx.status(`Filling the form with “${example.label}”…`);
    try {
      for (const input of spec.inputs) {
        const field = document.getElementById(`field-${input.name}`);
        if (!field) continue;
        if (example.values[input.name]) fillTexts(field, input.name, example.values[input.name]);
        else if (example.files[input.name]) await fillFile(index, field, input.name, example.files[input.name], ctx);
      }
    } catch (err) {
      ctx.status(`The example could not be loaded: ${err.message}`);
      return;
    }
    if (!spec.cached_examples) {
      ctx.status(`Filled with “${example.label}”; press Submit.`);
      return;
    }
    let response = await fetch(`examples/${index}/result`, { headers: ctx.headers() });
    // 503: the server is still computing the examples (the model runs them one by one at start).
    for (let tries = 0; response.status === 503 && tries < 240; tries++) {
      if (button.getAttribute("aria-pressed") !== "true") return;
      ctx.status(`Filled with “${example.label}”; its result is still being computed…`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      response = await fetch(`examples/${index}/result`, { headers: ctx.headers() });
    }
    if (button.getAttribute("aria-pressed") !== "true") return;
    if (!response.ok) {
      ctx.status(`Filled with “${example.label}”; press Submit (${(await ctx.readError(response)).error}).`);
      return;
    }
    ctx.show(await response.json());
    ctx.status(`Result of “${example.label}” (computed at start).`);
  }

  // Renders the list under the form; `ctx` has headers(), readError(response), show(answer), status(text).
  function render(spec, ctx) {
    const examples = spec.examples || [];
    const form = document.getElementById("form");
    let box = document.getElementById("examples");
    if (box) box.remove();
    if (!examples.length) return;
    box = make("section", { id: "examples", class: "examples", "aria-labelledby": "examples-heading" }, form);
    make("h3", { id: "examples-heading", text: "Examples" }, box);
    make("p", { class: "help", text: spec.cached_examples ? "Click one to fill the form and see its result." : "Click one to fill the form." }, box);
    const list = make("ul", { class: "example-list" }, box);
    examples.forEach((example, index) => {
      const item = make("li", {}, list);
      const button = make("button", { type: "button", class: "example", id: `example-${index}`, "aria-pressed": "false" }, item);
      if (example.thumbnail) make("img", { src: `examples/${index}/thumbnail`, alt: "", class: "example-thumb" }, button);
      const text = make("span", { class: "example-text" }, button);
      make("strong", { text: example.label }, text);
      if (example.summary) make("span", { class: "example-summary", text: example.summary }, text);
      button.addEventListener("click", () => use(index, example, spec, ctx, button));
    });
  }

  window.EmsExamples = { render };
})();
