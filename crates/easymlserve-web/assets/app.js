// The web GUI's main script: reads the UI spec from the server, draws the form and the result slots,
// submits the form as multipart data (as a job with progress when the service offers jobs, see
// progress.js), and shows results and errors.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const make = (...args) => window.EmsInputs.make(...args);
  const KEY_STORE = "easymlserve-api-key";
  let spec = null;
  let widgets = [];
  let slots = new Map();
  let busy = false;

  function banner(message) {
    const node = $("banner");
    node.textContent = message || "";
    node.hidden = !message;
    if (message) node.scrollIntoView({ block: "nearest" });
  }

  function headers() {
    const key = $("api-key").value.trim();
    if (key) sessionStorage.setItem(KEY_STORE, key);
    return key ? { "x-api-key": key } : {};
  }

  // Turns any failed answer into plain words, with the field when the server named one.
  async function readError(response) {
    let body = null;
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    if (body && body.error) return body;
    const words = { 401: "The API key is missing or wrong.", 413: "The upload is too large.", 502: "The service cannot be reached.", 503: "The service is busy or still starting; try again in a moment.", 504: "The service took too long to answer." };
    return { error: words[response.status] || `The server answered ${response.status} ${response.statusText}.`, error_type: "http_error" };
  }

  function showError(err) {
    const widget = err.field && widgets.find((w) => w.name === err.field);
    if (widget) {
      widget.setError(err.error);
      widget.focus();
      banner("");
    } else {
      banner(err.error);
    }
  }

  async function preview(name, file, target) {
    const widget = widgets.find((w) => w.name === name);
    widget.setError(null);
    const fd = new FormData();
    fd.append(name, file, file.name);
    let response;
    try {
      response = await fetch("preview", { method: "POST", body: fd, headers: headers() });
    } catch (_) {
      target.replaceChildren();
      widget.setError("The GUI server cannot be reached.");
      return;
    }
    if (!response.ok) {
      const err = await readError(response);
      target.replaceChildren();
      widget.setError(err.error);
      return;
    }
    const p = await response.json();
    target.replaceChildren();
    if (p.kind === "image") {
      make("img", { src: `data:image/png;base64,${p.image.png}`, alt: `Preview of ${file.name}` }, target);
      make("p", { class: "help", text: p.detail }, target);
    } else if (p.kind === "table") {
      const fake = { kind: "table", name: `${name}-preview`, label: "Preview" };
      window.EmsOutputs.show({ body: target, spec: fake }, p.table);
      make("p", { class: "help", text: `${p.rows} rows in the file` }, target);
    } else if (p.kind === "audio") {
      make("p", { class: "help", text: p.detail }, target);
    } else if (p.kind === "time_series") {
      window.EmsPlot.create(target, p.plot);
      make("p", { class: "help", text: `${p.rows} rows in the file` }, target);
    } else {
      make("p", { class: "help", text: `${p.name}, ${window.EmsInputs.formatBytes(p.size)}` }, target);
    }
  }

  // The "use via API" snippets: each sends exactly `request` to the service's /process, the key only as a
  // placeholder. Every quoting is one that stays valid for any JSON: shell single quotes with `'` escaped,
  // Python literals written from the parsed value, JSON text as a JS expression, a Rust raw string with
  // more `#` than any `"#...` run inside it.
  const KEY = "<your key>";

  function processUrl() {
    return spec.page.process_url || new URL("/process", window.location.href).href;
  }

  function curlFor(request) {
    const key = spec.page.auth_required ? ` \\\n  -H 'X-API-Key: ${KEY}'` : "";
    const body = JSON.stringify(request);
    const data = body.length > 2000 ? "@request.json" : `'${body.replaceAll("'", "'\\''")}'`;
    return `curl -X POST '${processUrl()}' \\\n  -H 'Content-Type: application/json'${key} \\\n  -d ${data}`;
  }

  // A Python literal for a JSON value: JSON strings are valid Python strings, and numbers too.
  function pyLiteral(v, indent) {
    const pad = "    ".repeat(indent + 1);
    const end = "    ".repeat(indent);
    if (v === null) return "None";
    if (v === true) return "True";
    if (v === false) return "False";
    if (Array.isArray(v)) {
      return v.length ? `[\n${v.map((x) => pad + pyLiteral(x, indent + 1)).join(",\n")},\n${end}]` : "[]";
    }
    if (typeof v === "object") {
      const keys = Object.keys(v);
      return keys.length ? `{\n${keys.map((k) => `${pad}${JSON.stringify(k)}: ${pyLiteral(v[k], indent + 1)}`).join(",\n")},\n${end}}` : "{}";
    }
    return JSON.stringify(v);
  }

  function pythonFor(request) {
    const key = spec.page.auth_required ? `, headers={"X-API-Key": "${KEY}"}` : "";
    return `import requests\n\npayload = ${pyLiteral(request, 0)}\n` +
      `response = requests.post(${JSON.stringify(processUrl())}, json=payload${key})\n` +
      "response.raise_for_status()\nprint(response.json())";
  }

  function jsFor(request) {
    const key = spec.page.auth_required ? `, "X-API-Key": "${KEY}"` : "";
    return `const response = await fetch(${JSON.stringify(processUrl())}, {\n  method: "POST",\n` +
      `  headers: { "Content-Type": "application/json"${key} },\n` +
      `  body: JSON.stringify(${JSON.stringify(request, null, 2).replaceAll("\n", "\n  ")}),\n});\n` +
      "if (!response.ok) throw new Error(await response.text());\nconsole.log(await response.json());";
  }

  function rustFor(request) {
    const body = JSON.stringify(request, null, 2);
    const longest = Math.max(0, ...[...body.matchAll(/"(#*)/g)].map((m) => m[1].length));
    const hashes = "#".repeat(longest + 1);
    const base = processUrl().replace(/\/process$/, "");
    const key = spec.page.auth_required ? `\n        .api_key("${KEY}")?` : "";
    return `// Cargo.toml: easymlserve, tokio (features "macros", "rt-multi-thread")\n` +
      "use easymlserve::{Client, serde_json};\n\n" +
      "#[tokio::main]\nasync fn main() -> Result<(), Box<dyn std::error::Error>> {\n" +
      `    let client = Client::new(${JSON.stringify(base)})?${key};\n` +
      `    let request: serde_json::Value = serde_json::from_str(r${hashes}"${body}"${hashes})?;\n` +
      "    let answer = client.process_json(&request).await?;\n    println!(\"{answer}\");\n    Ok(())\n}";
  }

  const SNIPPETS = { curl: curlFor, python: pythonFor, js: jsFor, rust: rustFor };

  // Fills every snippet's panel (the curl one keeps its old id, #curl).
  function showSnippets(text) {
    for (const [id, make] of Object.entries(SNIPPETS)) $(id === "curl" ? "curl" : `snippet-${id}`).textContent = text(make);
  }

  function selectSnippet(tab) {
    for (const t of document.querySelectorAll("#api-tabs [role=tab]")) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !on;
    }
  }

  // Arrow keys, Home and End move between the tabs (the ARIA tabs pattern); Tab leaves the list.
  function tabKeys(event) {
    const tabs = [...document.querySelectorAll("#api-tabs [role=tab]")];
    const at = tabs.indexOf(document.activeElement);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
    if (at < 0 || to === undefined) return;
    event.preventDefault();
    const tab = tabs[(to + tabs.length) % tabs.length];
    selectSnippet(tab);
    tab.focus();
  }

  function shownSnippet() {
    const tab = document.querySelector("#api-tabs [aria-selected=true]");
    return $(tab.getAttribute("aria-controls")).textContent;
  }

  // What the last answer came from, for the "use via API" panel: {form} (the form data the page sent)
  // or {job} (a job followed after a reload). The answer does not echo the request: the panel asks the
  // GUI server for it when opened, and builds the command here.
  let sent = null;
  let built = null;

  function showApi(source) {
    sent = source;
    built = null;
    $("api-panel").hidden = false;
    showSnippets(() => "");
    fillApi();
  }

  async function fillApi() {
    const source = sent;
    if (!source || built === source || !$("api-panel").open) return;
    built = source;
    showSnippets(() => "Building the command…");
    let response = null;
    try {
      response = source.job
        ? await fetch(`jobs/${encodeURIComponent(source.job)}/request`, { headers: headers(), cache: "no-store" })
        : await fetch("request", { method: "POST", body: source.form, headers: headers() });
    } catch (_) { /* shown below */ }
    if (source !== sent) return;
    if (!response || !response.ok) {
      built = null;
      const why = response ? (await readError(response)).error : "The GUI server cannot be reached.";
      showSnippets(() => why);
      return;
    }
    const request = await response.json();
    showSnippets((make) => make(request));
    const link = $("download-request");
    if (link.href.startsWith("blob:")) URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(new Blob([JSON.stringify(request, null, 2) + "\n"], { type: "application/json" }));
  }

  // Runs the form data plainly with POST submit; resolves like EmsJobs.submit.
  async function plainSubmit(fd) {
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    const status = $("status");
    const tick = () => {
      status.replaceChildren(make("span", { class: "spinner", "aria-hidden": "true" }), document.createTextNode(`Running… ${elapsed().toFixed(1)} s`));
    };
    tick();
    const timer = setInterval(tick, 100);
    try {
      let response;
      try {
        response = await fetch("submit", { method: "POST", body: fd, headers: headers() });
      } catch (_) {
        return { offline: true, error: { error: "The GUI server cannot be reached. Check your connection and that the server is running." } };
      }
      if (!response.ok) return { error: await readError(response), seconds: elapsed() };
      return { answer: await response.json(), seconds: elapsed() };
    } finally {
      clearInterval(timer);
    }
  }

  const jobApi = { headers, readError };

  // Runs `work` (a submission or a resumed job) with the form locked, then shows its outcome; `source`
  // is what the API panel builds its command from.
  async function running(work, source) {
    if (busy) return;
    busy = true;
    const button = $("submit");
    button.disabled = true;
    $("results").setAttribute("aria-busy", "true");
    $("status").textContent = "";
    const started = performance.now();
    try {
      const outcome = await work();
      const seconds = outcome.seconds ?? (performance.now() - started) / 1000;
      const took = outcome.offline ? "" : ` ${seconds.toFixed(2)} s`;
      if (outcome.answer) {
        for (const entry of outcome.answer.outputs) {
          const slotRef = slots.get(entry.name);
          if (slotRef) window.EmsOutputs.show(slotRef, entry.value);
        }
        showApi(source);
        $("status").textContent = `Done in${took}.`;
      } else if (outcome.canceled) {
        $("status").textContent = took ? `Canceled after${took}.` : "Canceled.";
      } else {
        showError(outcome.error);
        $("status").textContent = took ? `Failed after${took}.` : "Failed.";
      }
    } finally {
      busy = false;
      button.disabled = false;
      $("results").setAttribute("aria-busy", "false");
    }
  }

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    banner("");
    widgets.forEach((w) => w.setError(null));
    const fd = new FormData();
    widgets.forEach((w) => w.collect(fd));
    await running(async () => {
      const outcome = spec.jobs ? await window.EmsJobs.submit(fd, jobApi) : { fallback: true };
      return outcome.fallback ? plainSubmit(fd) : outcome;
    }, { form: fd });
  }

  function clear() {
    widgets.forEach((w) => w.reset());
    banner("");
    $("status").textContent = "";
  }

  async function start() {
    let response;
    try {
      response = await fetch("spec");
    } catch (_) {
      banner("The GUI server cannot be reached.");
      return;
    }
    if (response.status === 503) {
      // The model is still loading: its form exists once it has loaded. Say so and ask again.
      banner((await readError(response)).error);
      setTimeout(start, 1000);
      return;
    }
    if (!response.ok) {
      banner((await readError(response)).error);
      return;
    }
    banner("");
    spec = await response.json();
    document.title = spec.title || "easymlserve";
    $("title").textContent = spec.title || "easymlserve";
    $("description").textContent = spec.description || "";
    if (spec.page.auth_required) {
      $("api-key-field").hidden = false;
      $("api-key").value = sessionStorage.getItem(KEY_STORE) || "";
    }
    const ctx = { preview };
    widgets = spec.inputs.map((input) => window.EmsInputs.render(input, ctx));
    $("inputs").replaceChildren(...widgets.map((w) => w.element));
    slots = new Map(spec.outputs.map((o) => [o.name, window.EmsOutputs.slot(o)]));
    $("outputs").replaceChildren(...[...slots.values()].map((s) => s.element));
    const showAnswer = (answer) => answer.outputs.forEach((e) => slots.has(e.name) && window.EmsOutputs.show(slots.get(e.name), e.value));
    window.EmsExamples.render(spec, { headers, readError, show: showAnswer, status: (text) => { $("status").textContent = text; } });
    $("form").addEventListener("submit", submit);
    $("clear").addEventListener("click", clear);
    $("api-panel").addEventListener("toggle", fillApi);
    for (const tab of document.querySelectorAll("#api-tabs [role=tab]")) tab.addEventListener("click", () => selectSnippet(tab));
    $("api-tabs").addEventListener("keydown", tabKeys);
    $("copy-snippet").addEventListener("click", () => navigator.clipboard && navigator.clipboard.writeText(shownSnippet()));
    document.body.dataset.ready = "true";
    // A reload while a job ran: its id is in the fragment, so follow it again.
    const job = window.EmsJobs.fragmentJob();
    if (job) running(() => window.EmsJobs.resume(job, jobApi), { job });
  }

  start();
})();
