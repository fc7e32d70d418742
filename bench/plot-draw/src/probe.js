// Installed into the web GUI's page by bench/plot-draw (never shipped): records in `window.__bench`
// how long each EmsPlot.create takes and when its frame is on screen, each key pressed in the Note
// input and each pointer move over a plot (from the event's own time stamp to its handler and to the
// next frame), the form's submissions, and every main-thread task and animation frame over 50 ms.
(() => {
  if (window.__bench) return;
  const bench = (window.__bench = { tasks: [], creates: [], keys: [], hovers: [], submits: [] });
  // Time of the frame after the current task: rAF runs before the frame is drawn, a task queued from
  // it runs once the frame is out.
  const painted = (done) => requestAnimationFrame(() => setTimeout(() => done(performance.now()), 0));
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) bench.tasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: "longtask", buffered: true });
  // Long animation frames (over 50 ms) count the style, layout and paint after the tasks as well.
  bench.frames = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) bench.frames.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: "long-animation-frame", buffered: true });

  const create = window.EmsPlot.create;
  window.EmsPlot.create = function (container, plot, colours) {
    const start = performance.now();
    const handle = create.call(this, container, plot, colours);
    const record = {
      start,
      create: performance.now() - start,
      points: plot.series.reduce((n, s) => n + s.x.length, 0),
      drawn: [...handle.element.querySelectorAll("path[data-series]")]
        .reduce((n, p) => n + (p.getAttribute("d").match(/[ML]/g) || []).length, 0),
      painted: null,
    };
    bench.creates.push(record);
    painted((t) => { record.painted = t - start; });
    return handle;
  };

  document.getElementById("form").addEventListener("submit", () => bench.submits.push(performance.now()), true);
  document.getElementById("in-note").addEventListener("keydown", (e) => {
    const record = { key: e.key, at: e.timeStamp, handled: performance.now() - e.timeStamp, painted: null };
    bench.keys.push(record);
    painted((t) => { record.painted = t - record.at; });
  });
  // Bubbling to the document: the plot's own handler on its hit area has run and shown the tooltip.
  document.addEventListener("pointermove", (e) => {
    const plot = e.target.closest && e.target.closest(".plot");
    if (!plot) return;
    const tip = plot.querySelector(".tooltip");
    const record = { at: e.timeStamp, handled: performance.now() - e.timeStamp, painted: null, tip: tip.hidden ? "" : tip.textContent };
    bench.hovers.push(record);
    painted((t) => { record.painted = t - record.at; });
  });
})();
