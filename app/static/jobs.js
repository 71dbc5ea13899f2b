// Report job progress: poll the job's JSON and move the bar; reload the page when it ends,
// so the server renders the download, the issued report or the failure message.
// Without JavaScript the page's <noscript> refresh does the same, more coarsely.
"use strict";

(function () {
  const box = document.querySelector("[data-job-url]");
  if (!box) { return; }
  const bar = box.querySelector("[data-job-bar]");
  const fill = box.querySelector("[data-job-fill]");
  const stage = box.querySelector("[data-job-stage]");
  const percent = box.querySelector("[data-job-percent]");
  const FAST = 750;
  const SLOW = 10000;
  let delay = FAST;

  function show(job) {
    bar.setAttribute("aria-valuenow", String(job.progress));
    fill.setAttribute("width", job.progress + "%");
    percent.textContent = job.progress + " %";
    if (stage.textContent !== job.stage) { stage.textContent = job.stage; }
  }

  async function poll() {
    try {
      const response = await fetch(box.dataset.jobUrl, {
        headers: {"Accept": "application/json"}, cache: "no-store", credentials: "same-origin",
      });
      if (response.redirected) {
        window.location.reload();  // logged out meanwhile: the server asks to log in
        return;
      }
      if (response.ok) {
        const job = await response.json();
        show(job);
        if (job.finished || job.stale) { window.location.reload(); return; }
        delay = FAST;
      } else if (response.status === 403 || response.status === 404) {
        window.location.reload();  // logged out or gone: let the server say so
        return;
      } else {
        delay = Math.min(delay * 2, SLOW);
      }
    } catch (error) {
      delay = Math.min(delay * 2, SLOW);  // the server restarts or the network dropped
    }
    window.setTimeout(poll, delay);
  }

  window.setTimeout(poll, FAST);
})();
