// The Camera input of the web GUI: "Start camera" asks for the camera (getUserMedia) and shows its
// picture live, "Take picture" freezes a frame, "Retake" goes back to the live picture. The frame is sent
// as a PNG upload, decoded on the server like an image file. Where there is no camera, no permission or
// no mediaDevices (a page not served from https or localhost), the input says why and becomes an image
// file picker.
"use strict";

(function () {
  const media = (window.EmsMedia = window.EmsMedia || {});
  const make = (...args) => window.EmsInputs.make(...args);

  function reasonFor(err) {
    const name = (err && err.name) || String(err);
    if (name === "NotAllowedError" || name === "SecurityError") return "Camera permission was denied.";
    if (name === "NotFoundError" || name === "OverconstrainedError") return "No camera was found.";
    return `The camera could not be started (${name}).`;
  }

  media.camera = function (field, spec, id, describedBy, ctx) {
    const box = make("div", { class: "camera" }, field);
    const note = make("p", { class: "help camera-note", "aria-live": "polite", text: "Take a picture with your camera." }, box);
    const video = make("video", { class: "camera-live", autoplay: true, playsinline: true, hidden: true, "aria-label": `${spec.label}: live camera picture` }, box);
    video.muted = true;
    const shot = make("img", { class: "camera-shot", alt: `${spec.label}: the picture taken`, hidden: true }, box);
    const row = make("div", { class: "camera-buttons" }, box);
    const start = make("button", { type: "button", id, class: "small camera-start", text: "Start camera", "aria-describedby": describedBy }, row);
    const take = make("button", { type: "button", class: "small camera-take", text: "Take picture", hidden: true }, row);
    const retake = make("button", { type: "button", class: "small camera-retake", text: "Retake", hidden: true }, row);
    const fallbackBox = make("div", { class: "camera-fallback", hidden: true }, box);
    let stream = null;
    let frame = null;
    let picker = null;

    function fallback(reason) {
      stop();
      row.hidden = true;
      video.hidden = true;
      shot.hidden = true;
      note.textContent = `${reason} Choose an image file instead.`;
      fallbackBox.hidden = false;
      if (!picker) {
        const fileSpec = Object.assign({}, spec, { kind: "file", extensions: ["png", "jpg", "jpeg"] });
        picker = window.EmsInputs.fileWidget(fallbackBox, fileSpec, `${id}-file`, describedBy, ctx);
      }
    }

    function stop() {
      if (stream) stream.getTracks().forEach((t) => t.stop());
      stream = null;
    }

    function live() {
      frame = null;
      shot.hidden = true;
      video.hidden = false;
      take.hidden = false;
      retake.hidden = true;
      take.disabled = false;
    }

    start.addEventListener("click", async () => {
      const devices = navigator.mediaDevices;
      if (!devices || typeof devices.getUserMedia !== "function") {
        fallback("This page cannot use a camera here (it needs https or localhost, and a browser with camera access).");
        return;
      }
      start.disabled = true;
      note.textContent = "Starting the camera…";
      try {
        stream = await devices.getUserMedia({ video: true, audio: false });
      } catch (err) {
        fallback(reasonFor(err));
        return;
      }
      video.srcObject = stream;
      start.hidden = true;
      live();
      note.textContent = "Camera on: take a picture.";
      take.focus();
    });

    take.addEventListener("click", () => {
      const w = video.videoWidth;
      const h = video.videoHeight;
      if (!w || !h) { note.textContent = "The camera has no picture yet; try again in a moment."; return; }
      const canvas = document.createElement("canvas");
      canvas.width = w;
      canvas.height = h;
      canvas.getContext("2d").drawImage(video, 0, 0, w, h);
      take.disabled = true;
      canvas.toBlob((blob) => {
        if (!blob) { take.disabled = false; note.textContent = "The picture could not be encoded."; return; }
        frame = blob;
        if (shot.src) URL.revokeObjectURL(shot.src);
        shot.src = URL.createObjectURL(blob);
        shot.hidden = false;
        video.hidden = true;
        take.hidden = true;
        retake.hidden = false;
        note.textContent = `Picture taken: ${w} x ${h} px.`;
        field.dispatchEvent(new Event("change", { bubbles: true }));
        retake.focus();
      }, "image/png");
    });

    retake.addEventListener("click", () => {
      live();
      note.textContent = "Camera on: take a picture.";
      take.focus();
    });

    return {
      collect: (fd) => {
        if (picker) picker.collect(fd);
        else if (frame) fd.append(spec.name, frame, "camera.png");
      },
      reset: () => {
        if (picker) picker.reset();
        else if (stream) { live(); note.textContent = "Camera on: take a picture."; }
      },
    };
  };
})();
