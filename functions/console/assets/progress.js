// The progress page's live numbers: asks the page's progress.json every few seconds, shows the
// answer in the page's live region, and reloads the page (which then shows the report) once the
// run has ended. Everything else in the console works without script.
(function () {
  var box = document.getElementById('run-progress');
  if (!box) return;
  var url = box.getAttribute('data-poll');
  var every = Number(box.getAttribute('data-every')) * 1000 || 2000;
  var heading = document.getElementById('run-heading');
  var bar = document.getElementById('steps');
  var count = document.getElementById('run-count');
  var updated = document.getElementById('run-updated');
  function show(view) {
    if (view.ended) {
      window.location.reload();
      return false;
    }
    heading.textContent = view.heading;
    count.textContent = view.count;
    updated.textContent = view.updated;
    if (view.percent === null || view.percent === undefined) {
      bar.hidden = true;
    } else {
      bar.hidden = false;
      bar.max = view.total;
      bar.value = view.done;
      bar.textContent = view.percent + ' %';
    }
    return true;
  }
  function ask() {
    fetch(url, { credentials: 'same-origin', cache: 'no-store' })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (view) {
        if (!view || show(view)) window.setTimeout(ask, every);
      })
      .catch(function () { window.setTimeout(ask, every); });
  }
  window.setTimeout(ask, every);
})();
