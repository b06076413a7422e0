// Polls a job's JSON status and moves its progress bar; reloads the page when the job has finished.
(function () {
  var box = document.querySelector("[data-poll-url]");
  if (!box) return;
  var bar = box.querySelector("progress"), label = box.querySelector("[data-label]");
  function tick() {
    fetch(box.dataset.pollUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (job) {
        bar.value = job.progress;
        label.textContent = job.status_label + " — " + job.progress + "%";
        if (job.finished) { window.location.reload(); } else { setTimeout(tick, 500); }
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  tick();
})();
