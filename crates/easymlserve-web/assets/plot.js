// Interactive SVG plots drawn from data series: lines, points and bars; time or number x axes; hover
// shows the values at the nearest x; drag to zoom into an x range; buttons to zoom, reset and download
// as SVG or PNG; long series are thinned to the pixel width keeping each column's minimum and maximum.
// No library: plots travel as data and each GUI draws them itself.
"use strict";

(function () {
  const NS = "http://www.w3.org/2000/svg";
  // Okabe-Ito colour-blind-safe palette (Okabe & Ito, "Color Universal Design", 2002; the source is
  // cited in easymlserve-ui's palette.rs: this page names no address). Same list and rule as easymlserve-ui's palette.rs (PALETTE,
  // ColourMap): a series is coloured by its name, in order of first appearance on the page.
  const COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"];

  // The name that picks the colour: "LR (MAE 12.3)" shares the colour of "LR" (colour_key in Rust).
  function colourKey(name) {
    const trimmed = String(name || "").trimEnd();
    const open = trimmed.lastIndexOf(" (");
    return trimmed.endsWith(")") && open > 0 ? trimmed.slice(0, open).trimEnd() : trimmed;
  }

  // One map per page and result: name -> colour, by first appearance; an author's colour wins.
  function colourMap() {
    const names = [];
    return (s) => {
      if (s.colour) return s.colour;
      const key = colourKey(s.name);
      let i = names.indexOf(key);
      if (i < 0) { names.push(key); i = names.length - 1; }
      return COLOURS[i % COLOURS.length];
    };
  }
  const HEIGHT = 320;
  let plotCount = 0;
  const M = { top: 12, right: 16, bottom: 44, left: 64 };

  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (parent) parent.appendChild(node);
    return node;
  }

  function niceStep(span, count) {
    const raw = span / Math.max(count, 1);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / power;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * power;
  }

  function numberTicks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const step = niceStep(hi - lo, count);
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return ticks;
  }

  const HOUR = 3600e3, DAY = 24 * HOUR;
  const TIME_STEPS = [60e3, 5 * 60e3, 15 * 60e3, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY];

  function timeTicks(lo, hi, count) {
    const step = TIME_STEPS.find((s) => (hi - lo) / s <= count) || TIME_STEPS[TIME_STEPS.length - 1];
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi && ticks.length < 50; t += step) ticks.push(t);
    return { ticks, step };
  }

  const pad = (n) => String(n).padStart(2, "0");
  function formatTime(ms, step) {
    const d = new Date(ms);
    const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    if (step === undefined) return `${date} ${time} UTC`;
    return step >= DAY ? date : `${date.slice(5)} ${time}`;
  }

  function formatNumber(x) {
    if (x === null || x === undefined || !isFinite(x)) return "–";
    const abs = Math.abs(x);
    if (abs !== 0 && (abs >= 1e7 || abs < 1e-3)) return x.toExponential(3);
    return window.EmsNumbers.short(x, abs >= 100 ? 1 : 4); // "1,234.5" whatever the locale (numbers.js)
  }

  function extent(values) {
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (v !== null && isFinite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return lo === Infinity ? [0, 1] : lo === hi ? [lo - 1, hi + 1] : [lo, hi];
  }

  function nearestIndex(xs, x) {
    let lo = 0, hi = xs.length - 1;
    if (hi < 0) return -1;
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (xs[mid] < x) lo = mid; else hi = mid; }
    return Math.abs(xs[lo] - x) <= Math.abs(xs[hi] - x) ? lo : hi;
  }

  // First index of sorted `xs` with xs[i] >= x (or > x when `after`).
  function bound(xs, x, after) {
    let lo = 0, hi = xs.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (after ? xs[mid] <= x : xs[mid] < x) lo = mid + 1; else hi = mid; }
    return lo;
  }

  // Indices of the points of a sorted series worth drawing in the view [lo, hi]: one point past each
  // edge so lines reach the border, and beyond ~4 points a pixel only the first, lowest, highest and
  // last point of each pixel column, so minima and maxima survive and 100,000 points stay cheap.
  function drawnIndices(xs, ys, lo, hi, sx, w) {
    const a = Math.max(0, bound(xs, lo, false) - 1), b = Math.min(xs.length, bound(xs, hi, true) + 1);
    const out = [];
    if (b - a <= 4 * w) { for (let i = a; i < b; i++) out.push(i); return out; }
    let col = null, first = -1, min = -1, max = -1, last = -1;
    const flush = () => {
      if (first >= 0) for (const i of [...new Set([first, min, max, last])].sort((p, q) => p - q)) out.push(i);
      first = -1;
    };
    const gap = (y) => y === null || !isFinite(y);
    for (let i = a; i < b; i++) {
      const y = ys[i];
      if (gap(y)) { flush(); if (!out.length || !gap(ys[out[out.length - 1]])) out.push(i); continue; }
      const c = Math.floor(sx(xs[i]));
      if (c !== col) { flush(); col = c; }
      if (first < 0) first = min = max = i;
      if (y < ys[min]) min = i;
      if (y > ys[max]) max = i;
      last = i;
    }
    flush();
    return out;
  }

  function download(name, blob) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  function slug(text) { return (text || "plot").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "plot"; }

  // Draws `plot` ({title, x_label, y_label, x_type, series}) into `container`; returns a handle.
  // `colours` (from `colourMap()`) is shared by the plots of one result so names keep their colour.
  function create(container, plot, colours) {
    const isTime = plot.x_type === "time";
    const colourOf = colours || colourMap();
    const series = (plot.series || []).map((s) => ({ ...s, colour: colourOf(s), visible: true, order: sortOrder(s) }));
    const allX = series.flatMap((s) => s.x);
    const full = extent(allX);
    let view = full.slice();

    const wrap = document.createElement("div");
    wrap.className = "plot";
    const svgHolder = document.createElement("div");
    const tooltip = document.createElement("div");
    tooltip.className = "tooltip";
    tooltip.hidden = true;
    const legend = document.createElement("div");
    legend.className = "legend";
    const tools = document.createElement("div");
    tools.className = "row";
    wrap.append(svgHolder, tooltip, legend, tools);
    container.appendChild(wrap);

    const button = (label, action) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "small";
      b.textContent = label;
      b.addEventListener("click", action);
      tools.appendChild(b);
      return b;
    };
    const zoomBy = (factor) => {
      const mid = (view[0] + view[1]) / 2, half = ((view[1] - view[0]) / 2) * factor;
      view = [Math.max(full[0], mid - half), Math.min(full[1], mid + half)];
      draw();
    };
    button("Zoom in", () => zoomBy(0.5));
    button("Zoom out", () => zoomBy(2));
    button("Reset zoom", () => { view = full.slice(); draw(); });
    button("Download SVG", () => download(`${slug(plot.title)}.svg`, new Blob([svgText()], { type: "image/svg+xml" })));
    button("Download PNG", () => toPng((blob) => download(`${slug(plot.title)}.png`, blob)));

    series.forEach((s) => {
      const b = document.createElement("button");
      b.type = "button";
      b.setAttribute("aria-pressed", "true");
      b.title = `Show or hide ${s.name}`;
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = s.colour;
      b.append(sw, document.createTextNode(s.name));
      b.addEventListener("click", () => { s.visible = !s.visible; b.setAttribute("aria-pressed", String(s.visible)); draw(); });
      legend.appendChild(b);
    });

    let svg = null, scale = null;
    const clipId = `ems-clip-${++plotCount}`;

    function sortOrder(s) {
      const idx = s.x.map((_, i) => i);
      idx.sort((a, b) => s.x[a] - s.x[b]);
      return { xs: idx.map((i) => s.x[i]), ys: idx.map((i) => s.y[i]) };
    }

    function draw() {
      const width = Math.max(280, svgHolder.clientWidth || container.clientWidth || 600);
      const w = width - M.left - M.right, h = HEIGHT - M.top - M.bottom;
      const visible = series.filter((s) => s.visible);
      const ys = visible.flatMap((s) => s.order.ys.filter((_, i) => s.order.xs[i] >= view[0] && s.order.xs[i] <= view[1]));
      if (visible.some((s) => s.kind === "bar")) ys.push(0);
      let [ylo, yhi] = extent(ys);
      const ypad = (yhi - ylo) * 0.05;
      ylo -= ypad; yhi += ypad;
      const sx = (x) => M.left + ((x - view[0]) / (view[1] - view[0] || 1)) * w;
      const sy = (y) => M.top + (1 - (y - ylo) / (yhi - ylo || 1)) * h;
      scale = { sx, sy, w, h, invX: (px) => view[0] + ((px - M.left) / w) * (view[1] - view[0]) };

      svg = el("svg", { viewBox: `0 0 ${width} ${HEIGHT}`, width, height: HEIGHT, role: "img", "aria-label": plot.title || "plot", "font-family": "system-ui, sans-serif", "font-size": "11" });
      el("rect", { x: 0, y: 0, width, height: HEIGHT, fill: "#ffffff" }, svg);
      const axes = el("g", { stroke: "#d8dde5" }, svg);
      const labels = el("g", { fill: "#5b6577" }, svg);
      for (const t of numberTicks(ylo, yhi, 6)) {
        el("line", { x1: M.left, x2: M.left + w, y1: sy(t), y2: sy(t) }, axes);
        el("text", { x: M.left - 6, y: sy(t) + 4, "text-anchor": "end" }, labels).textContent = formatNumber(t);
      }
      const xt = isTime ? timeTicks(view[0], view[1], Math.max(2, Math.floor(w / 110))) : { ticks: numberTicks(view[0], view[1], Math.max(2, Math.floor(w / 80))) };
      for (const t of xt.ticks) {
        el("line", { x1: sx(t), x2: sx(t), y1: M.top + h, y2: M.top + h + 5 }, axes);
        el("text", { x: sx(t), y: M.top + h + 18, "text-anchor": "middle" }, labels).textContent = isTime ? formatTime(t, xt.step) : formatNumber(t);
      }
      el("rect", { x: M.left, y: M.top, width: w, height: h, fill: "none", stroke: "#aab3c0" }, svg);
      el("text", { x: M.left + w / 2, y: HEIGHT - 6, "text-anchor": "middle", fill: "#1d2430" }, svg).textContent = plot.x_label || (isTime ? "time (UTC)" : "");
      el("text", { x: 14, y: M.top + h / 2, "text-anchor": "middle", fill: "#1d2430", transform: `rotate(-90 14 ${M.top + h / 2})` }, svg).textContent = plot.y_label || "";

      el("clipPath", { id: clipId }, el("defs", {}, svg)).appendChild(el("rect", { x: M.left, y: M.top, width: w, height: h }));
      const data = el("g", { "clip-path": `url(#${clipId})` }, svg);
      const barCount = Math.max(1, visible.filter((s) => s.kind === "bar").length);
      let barIndex = 0;
      for (const s of visible) {
        const { xs, ys: yv } = s.order;
        if (s.kind === "bar") {
          const gap = xs.length > 1 ? (sx(xs[1]) - sx(xs[0])) : w / 10;
          const bw = Math.max(1, (gap * 0.8) / barCount);
          xs.forEach((x, i) => {
            if (yv[i] === null) return;
            const x0 = sx(x) - (gap * 0.4) + barIndex * bw;
            el("rect", { x: x0, y: Math.min(sy(yv[i]), sy(0)), width: bw, height: Math.abs(sy(0) - sy(yv[i])), fill: s.colour }, data);
          });
          barIndex += 1;
        } else if (s.kind === "scatter") {
          for (const i of drawnIndices(xs, yv, view[0], view[1], sx, w)) {
            if (yv[i] !== null) el("circle", { cx: sx(xs[i]), cy: sy(yv[i]), r: 2.5, fill: s.colour }, data);
          }
        } else {
          let d = "", pen = false;
          for (const i of drawnIndices(xs, yv, view[0], view[1], sx, w)) {
            if (yv[i] === null || !isFinite(yv[i])) { pen = false; continue; }
            d += `${pen ? "L" : "M"}${sx(xs[i]).toFixed(1)},${sy(yv[i]).toFixed(1)}`;
            pen = true;
          }
          el("path", { d, fill: "none", "data-series": s.name, stroke: s.colour, "stroke-width": 1.6, "stroke-linejoin": "round" }, data);
        }
      }
      const cross = el("line", { y1: M.top, y2: M.top + h, stroke: "#5b6577", "stroke-dasharray": "3 3", visibility: "hidden" }, svg);
      const brush = el("rect", { y: M.top, height: h, fill: "rgba(31,111,235,0.15)", visibility: "hidden" }, svg);
      const hit = el("rect", { x: M.left, y: M.top, width: w, height: h, fill: "transparent", cursor: "crosshair" }, svg);
      attachPointer(hit, cross, brush, visible);
      svgHolder.replaceChildren(svg);
      wrap.dataset.view = view.map((v) => v.toPrecision(6)).join(",");
    }

    function attachPointer(hit, cross, brush, visible) {
      let start = null;
      const localX = (ev) => {
        const box = svg.getBoundingClientRect();
        return ((ev.clientX - box.left) / box.width) * svg.viewBox.baseVal.width;
      };
      hit.addEventListener("pointerdown", (ev) => { start = localX(ev); hit.setPointerCapture(ev.pointerId); });
      hit.addEventListener("pointermove", (ev) => {
        const px = localX(ev);
        if (start !== null) {
          brush.setAttribute("x", Math.min(start, px));
          brush.setAttribute("width", Math.abs(px - start));
          brush.setAttribute("visibility", "visible");
        }
        showTooltip(ev, px, cross, visible);
      });
      hit.addEventListener("pointerup", (ev) => {
        const px = localX(ev);
        if (start !== null && Math.abs(px - start) > 6) {
          const [a, b] = [scale.invX(Math.min(start, px)), scale.invX(Math.max(start, px))];
          view = [Math.max(full[0], a), Math.min(full[1], b)];
          start = null;
          draw();
          return;
        }
        start = null;
        brush.setAttribute("visibility", "hidden");
      });
      hit.addEventListener("pointerleave", () => { tooltip.hidden = true; cross.setAttribute("visibility", "hidden"); });
    }

    function showTooltip(ev, px, cross, visible) {
      const x = scale.invX(px);
      const lines = [];
      let snapX = null;
      for (const s of visible) {
        const i = nearestIndex(s.order.xs, x);
        if (i < 0) continue;
        if (snapX === null || Math.abs(s.order.xs[i] - x) < Math.abs(snapX - x)) snapX = s.order.xs[i];
        lines.push([s, s.order.xs[i], s.order.ys[i]]);
      }
      if (snapX === null) return;
      cross.setAttribute("x1", scale.sx(snapX));
      cross.setAttribute("x2", scale.sx(snapX));
      cross.setAttribute("visibility", "visible");
      tooltip.replaceChildren();
      const head = document.createElement("div");
      head.textContent = isTime ? formatTime(snapX) : `${plot.x_label || "x"} = ${formatNumber(snapX)}`;
      tooltip.appendChild(head);
      for (const [s, sxv, y] of lines) {
        if (sxv !== snapX) continue;
        const row = document.createElement("div");
        const sw = document.createElement("span");
        sw.className = "swatch";
        sw.style.background = s.colour;
        row.append(sw, document.createTextNode(` ${s.name}: ${formatNumber(y)}`));
        tooltip.appendChild(row);
      }
      const box = wrap.getBoundingClientRect();
      tooltip.hidden = false;
      const left = Math.min(ev.clientX - box.left + 12, box.width - tooltip.offsetWidth - 4);
      tooltip.style.left = `${Math.max(0, left)}px`;
      tooltip.style.top = `${Math.max(0, ev.clientY - box.top - tooltip.offsetHeight - 8)}px`;
    }

    function svgText() {
      const clone = svg.cloneNode(true);
      clone.setAttribute("xmlns", NS);
      return new XMLSerializer().serializeToString(clone);
    }

    function toPng(done) {
      const img = new Image();
      const url = URL.createObjectURL(new Blob([svgText()], { type: "image/svg+xml" }));
      img.onload = () => {
        const canvas = document.createElement("canvas");
        canvas.width = svg.viewBox.baseVal.width * 2;
        canvas.height = HEIGHT * 2;
        const ctx = canvas.getContext("2d");
        ctx.scale(2, 2);
        ctx.drawImage(img, 0, 0);
        URL.revokeObjectURL(url);
        canvas.toBlob(done, "image/png");
      };
      img.src = url;
    }

    draw();
    // Redraw only when the width really changed: a redraw replaces the SVG under the pointer.
    let resizeTimer = null, drawnWidth = svgHolder.clientWidth;
    const observer = new ResizeObserver(() => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        if (svgHolder.clientWidth !== drawnWidth) { drawnWidth = svgHolder.clientWidth; draw(); }
      }, 100);
    });
    observer.observe(svgHolder);
    return { element: wrap, view: () => view.slice(), redraw: draw, svgText };
  }

  window.EmsPlot = { create, colourMap, formatNumber, formatTime };
})();
