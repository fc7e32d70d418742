// Audio in the web GUI. The Audio input takes a WAV or FLAC file (checked by the server's preview) or
// a recording: "Record" captures the microphone (getUserMedia, samples read by a ScriptProcessor node),
// "Stop" encodes them here as a 16-bit mono WAV, so the server always receives WAV; the recording can be
// played back before sending. The Audio output plays the answer's WAV (<audio controls>) and draws its
// waveform from the min/max columns the server sent.
"use strict";

(function () {
  const media = (window.EmsMedia = window.EmsMedia || {});
  const make = (...args) => window.EmsInputs.make(...args);

  // 16-bit PCM WAV of mono float samples.
  function encodeWav(samples, rate) {
    const out = new DataView(new ArrayBuffer(44 + samples.length * 2));
    const text = (at, s) => { for (let i = 0; i < s.length; i++) out.setUint8(at + i, s.charCodeAt(i)); };
    text(0, "RIFF");
    out.setUint32(4, 36 + samples.length * 2, true);
    text(8, "WAVE");
    text(12, "fmt ");
    out.setUint32(16, 16, true);
    out.setUint16(20, 1, true);
    out.setUint16(22, 1, true);
    out.setUint32(24, rate, true);
    out.setUint32(28, rate * 2, true);
    out.setUint16(32, 2, true);
    out.setUint16(34, 16, true);
    text(36, "data");
    out.setUint32(40, samples.length * 2, true);
    for (let i = 0; i < samples.length; i++) {
      const s = Math.max(-1, Math.min(1, samples[i]));
      out.setInt16(44 + i * 2, Math.round(s * 32767), true);
    }
    return new Blob([out.buffer], { type: "audio/wav" });
  }

  media.audio = function (field, spec, id, describedBy, ctx) {
    const fileSpec = Object.assign({}, spec, { kind: "file", extensions: ["wav", "flac"] });
    const picker = window.EmsInputs.fileWidget(field, fileSpec, id, describedBy, ctx);
    const row = make("div", { class: "audio-record" }, field);
    const record = make("button", { type: "button", class: "small audio-start", text: "Record" }, row);
    const stopButton = make("button", { type: "button", class: "small audio-stop", text: "Stop", hidden: true }, row);
    const status = make("span", { class: "help audio-status", "aria-live": "polite" }, row);
    const player = make("audio", { controls: true, class: "audio-recording", hidden: true, "aria-label": `${spec.label}: the recording` }, field);
    let recording = null;
    let session = null;

    const fileChosen = () => { recording = null; player.hidden = true; status.textContent = ""; };
    field.querySelector("input[type=file]").addEventListener("change", fileChosen);
    field.querySelector(".drop").addEventListener("drop", fileChosen);

    record.addEventListener("click", async () => {
      const devices = navigator.mediaDevices;
      if (!devices || typeof devices.getUserMedia !== "function") {
        status.textContent = "Recording needs a microphone and a page served from https or localhost; choose a file instead.";
        record.disabled = true;
        return;
      }
      let stream;
      try {
        stream = await devices.getUserMedia({ audio: true, video: false });
      } catch (err) {
        status.textContent = `The microphone could not be used (${(err && err.name) || err}); choose a file instead.`;
        return;
      }
      const Context = window.AudioContext || window.webkitAudioContext;
      const audio = new Context();
      const source = audio.createMediaStreamSource(stream);
      const node = audio.createScriptProcessor(4096, 1, 1);
      const chunks = [];
      node.onaudioprocess = (ev) => chunks.push(new Float32Array(ev.inputBuffer.getChannelData(0)));
      source.connect(node);
      node.connect(audio.destination);
      session = { stream, audio, node, source, chunks, started: performance.now() };
      record.hidden = true;
      stopButton.hidden = false;
      stopButton.focus();
      status.textContent = "Recording…";
    });

    stopButton.addEventListener("click", () => {
      if (!session) return;
      const { stream, audio, node, source, chunks } = session;
      session = null;
      source.disconnect();
      node.disconnect();
      stream.getTracks().forEach((t) => t.stop());
      const length = chunks.reduce((n, c) => n + c.length, 0);
      const all = new Float32Array(length);
      let at = 0;
      for (const c of chunks) { all.set(c, at); at += c.length; }
      const rate = audio.sampleRate;
      audio.close();
      recording = encodeWav(all, rate);
      picker.reset();
      if (player.src) URL.revokeObjectURL(player.src);
      player.src = URL.createObjectURL(recording);
      player.hidden = false;
      stopButton.hidden = true;
      record.hidden = false;
      record.textContent = "Record again";
      status.textContent = `Recorded ${(length / rate).toFixed(2)} s at ${rate} Hz.`;
      field.dispatchEvent(new Event("change", { bubbles: true }));
    });

    return {
      collect: (fd) => {
        if (recording) fd.append(spec.name, recording, "recording.wav");
        else picker.collect(fd);
      },
      reset: () => { picker.reset(); fileChosen(); },
    };
  };

  // The waveform: one vertical line per [min, max] column, in the text colour of the page.
  function waveform(parent, columns, label) {
    const canvas = make("canvas", { class: "waveform", role: "img", "aria-label": label }, parent);
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(200, Math.min(720, parent.clientWidth || 600));
    const height = 80;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const g = canvas.getContext("2d");
    g.scale(ratio, ratio);
    g.strokeStyle = getComputedStyle(parent).color || "#333";
    g.lineWidth = 1;
    const n = Math.max(1, columns.length);
    const y = (v) => height / 2 - Math.max(-1, Math.min(1, v)) * (height / 2 - 1);
    g.beginPath();
    columns.forEach(([lo, hi], i) => {
      const x = (i + 0.5) * (width / n);
      g.moveTo(x, y(hi));
      g.lineTo(x, Math.max(y(lo), y(hi) + 1));
    });
    g.stroke();
    return canvas;
  }

  media.showAudio = function (body, value, spec) {
    const blob = new Blob([window.EmsOutputs.bytesFromBase64(value.wav)], { type: "audio/wav" });
    const url = URL.createObjectURL(blob);
    make("audio", { controls: true, src: url, class: "audio-output", "aria-label": `${spec.label}: play` }, body);
    const channels = `${value.channels} channel${value.channels === 1 ? "" : "s"}`;
    const detail = `${value.duration.toFixed(2)} s · ${value.sample_rate} Hz · ${channels}`;
    waveform(body, value.waveform || [], `Waveform of ${spec.label}, ${detail}`);
    const row = make("div", { class: "audio-detail" }, body);
    make("span", { class: "help", text: detail }, row);
    const a = make("a", { class: "button small", download: `${spec.name}.wav`, text: "Download WAV" }, row);
    a.href = url;
  };
})();
