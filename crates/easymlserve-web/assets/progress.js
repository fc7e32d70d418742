// Long requests in the web GUI: submits the form as a job (POST jobs), follows the job's events through
// fetch() and a stream reader (EventSource cannot send the API key header), and shows a progress bar, the
// model's message, the queue position, the elapsed time, an ETA and a Cancel button. A dropped connection
// is resumed with Last-Event-ID; the job's id in the URL fragment (#job=<id>) lets a reload find it again.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  // Reads a text/event-stream body, calling `onEvent({event, data, id})` per event and `onEvent(null)`
  // for a comment (keep-alive); resolves when the body ends, rejects when the connection breaks.
  async function readEvents(body, onEvent) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = { event: "message", data: [], id: null };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, end).replace(/\r$/, "");
        buffer = buffer.slice(end + 1);
        if (line === "") {
          if (event.data.length) onEvent({ event: event.event, data: event.data.join("\n"), id: event.id });
          event = { event: "message", data: [], id: null };
          continue;
        }
        if (line.startsWith(":")) { onEvent(null); continue; }
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event.event = text;
        else if (field === "data") event.data.push(text);
        else if (field === "id") event.id = text;
      }
    }
  }

  function fragmentJob() {
    const match = /^#job=([^&]+)$/.exec(window.location.hash);
    return match ? decodeURIComponent(match[1]) : null;
  }

  function setFragment(id) {
    const url = id ? `#job=${encodeURIComponent(id)}` : window.location.pathname + window.location.search;
    window.history.replaceState(null, "", url);
  }

  const seconds = (s) => (s < 60 ? `${Math.round(s)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`);

  // The progress panel: bar, status text (a live region), clock and Cancel, for one job at a time.
  function panel(id, api) {
    const bar = $("job-progress");
    const text = $("job-text");
    const clock = $("job-time");
    const cancel = $("cancel");
    let started = performance.now();
    let eta = null; // { seconds, at }
    let canceling = false;

    const tick = () => {
      const elapsed = (performance.now() - started) / 1000;
      const left = eta ? Math.max(0, eta.seconds - (performance.now() - eta.at) / 1000) : null;
      clock.textContent = `Elapsed ${seconds(elapsed)}` + (left === null ? "" : ` · about ${seconds(left)} left`);
    };
    const say = (words) => { if (!canceling) text.textContent = words; };

    bar.removeAttribute("value");
    text.textContent = "Submitted…";
    cancel.disabled = false;
    $("job").hidden = false;
    tick();
    const timer = setInterval(tick, 1000);

    cancel.onclick = async () => {
      canceling = true;
      cancel.disabled = true;
      text.textContent = "Canceling…";
      let response = null;
      try {
        response = await fetch(`jobs/${encodeURIComponent(id)}/cancel`, { method: "POST", headers: api.headers() });
      } catch (_) { /* reported below */ }
      if (!response || !response.ok) {
        canceling = false;
        cancel.disabled = false;
        text.textContent = response ? `Cancel failed: ${(await api.readError(response)).error}` : "Cancel failed: the GUI server cannot be reached.";
      }
    };

    return {
      // One event of the stream; returns the outcome when it is the last one.
      event(e) {
        const data = JSON.parse(e.data);
        if (e.event === "job") {
          started = performance.now() - data.elapsed_s * 1000;
          tick();
        } else if (e.event === "queued") {
          say(data.position > 0 ? `Queued: ${data.position} ahead` : "Queued: next in line");
        } else if (e.event === "started") {
          say("Running…");
        } else if (e.event === "progress") {
          if (typeof data.fraction === "number") bar.value = Math.min(1, Math.max(0, data.fraction));
          else bar.removeAttribute("value");
          eta = typeof data.eta_s === "number" ? { seconds: data.eta_s, at: performance.now() } : null;
          say(data.message || "Running…");
          tick();
        } else if (e.event === "outputs") {
          return { answer: data };
        } else if (e.event === "error") {
          return data.error_type === "canceled" ? { canceled: true, error: data } : { error: data };
        }
        return null;
      },
      reconnecting() { say("Connection lost; reconnecting…"); },
      elapsed() { return (performance.now() - started) / 1000; },
      close() {
        clearInterval(timer);
        cancel.onclick = null;
        $("job").hidden = true;
      },
    };
  }

  // Follows job `id` to its last event; the outcome says how long the job took, in `seconds`.
  async function follow(id, api) {
    const view = panel(id, api);
    try {
      const outcome = await events(id, api, view);
      outcome.seconds = view.elapsed();
      return outcome;
    } finally {
      view.close();
      setFragment(null);
    }
  }

  // Reads the job's events, reconnecting after a dropped connection with Last-Event-ID.
  async function events(id, api, view) {
    let last = 0;
    let failures = 0;
    for (;;) {
      const headers = api.headers();
      if (last > 0) headers["Last-Event-ID"] = String(last);
      let response = null;
      try {
        response = await fetch(`jobs/${encodeURIComponent(id)}/events`, { headers, cache: "no-store" });
      } catch (_) { /* the GUI server cannot be reached: try again below */ }
      if (response && !response.ok && response.status < 500) return { error: await api.readError(response) };
      if (response && response.ok) {
        let outcome = null;
        try {
          await readEvents(response.body, (e) => {
            failures = 0;
            if (!e || outcome) return;
            if (e.id) last = Math.max(last, Number(e.id) || 0);
            outcome = view.event(e);
          });
        } catch (_) { /* the connection broke: resume below */ }
        if (outcome) return outcome;
      }
      failures += 1;
      view.reconnecting();
      await sleep(Math.min(500 * failures, 5000));
    }
  }

  // Submits the form data as a job and follows it. Resolves to {answer} | {error} | {canceled} (with
  // `seconds` once the job ran, `offline` when the GUI server cannot be reached), or {fallback: true}
  // when the service offers no jobs (the caller then uses POST submit).
  async function submit(fd, api) {
    let response;
    try {
      response = await fetch("jobs", { method: "POST", body: fd, headers: api.headers() });
    } catch (_) {
      return { offline: true, error: { error: "The GUI server cannot be reached. Check your connection and that the server is running." } };
    }
    if (response.status === 501) return { fallback: true };
    if (!response.ok) return { error: await api.readError(response) };
    const { job } = await response.json();
    setFragment(job);
    return follow(job, api);
  }

  window.EmsJobs = { submit, resume: follow, fragmentJob, readEvents };
})();
