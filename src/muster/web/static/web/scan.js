// The counter's scan field: after htmx records a serial the field is emptied and focused for
// the next one (a hand scanner types the serial and Enter). Where the browser has the
// BarcodeDetector API and a camera, a button scans QR labels and sends each code read; without
// it the button stays hidden and the plain field works as before.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  if (!form) return;
  var field = document.getElementById("scan");
  form.addEventListener("htmx:afterRequest", function () {
    field.value = "";
    field.focus();
  });
  var button = document.getElementById("camera");
  var video = document.getElementById("camera-view");
  var status = document.getElementById("camera-status");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  button.hidden = false;
  var stream = null;
  var last = "";
  var lastAt = 0;

  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
    button.textContent = button.dataset.start || button.textContent;
  }

  // A label encodes "MODEL SERIAL": the serial is the last word.
  function serialOf(text) {
    var words = text.trim().split(/\s+/);
    return words[words.length - 1];
  }

  button.addEventListener("click", function () {
    if (stream) { stop(); return; }
    var detector = new window.BarcodeDetector({ formats: ["qr_code", "code_128", "data_matrix"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      video.play();
      button.dataset.start = button.dataset.start || button.textContent;
      button.textContent = button.dataset.stop;
      var tick = function () {
        if (!stream) return;
        detector.detect(video).then(function (codes) {
          var now = Date.now();
          if (codes.length) {
            var serial = serialOf(codes[0].rawValue);
            // The same label held in view is read many times a second: send it once.
            if (serial && (serial !== last || now - lastAt > 3000)) {
              last = serial;
              lastAt = now;
              field.value = serial;
              status.textContent = serial;
              if (window.htmx) window.htmx.trigger(form, "submit"); else form.requestSubmit();
            }
          }
          window.setTimeout(tick, 250);
        }).catch(function () { window.setTimeout(tick, 500); });
      };
      tick();
    }).catch(function (error) {
      status.textContent = String(error);
      stop();
    });
  });
})();
