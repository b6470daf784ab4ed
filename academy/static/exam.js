// The exam clock. The server decides the deadline and enforces it; this only shows the time left,
// measured against the server's clock (data-now) so a wrong clock on the trainee's computer does not matter.
(function () {
  const clock = document.querySelector(".exam-clock");
  if (!clock) return;
  const deadline = Date.parse(clock.dataset.deadline);
  const skew = Date.parse(clock.dataset.now) - Date.now();
  const value = clock.querySelector(".exam-clock-value");
  function tick() {
    const left = Math.max(0, Math.floor((deadline - (Date.now() + skew)) / 1000));
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    value.textContent = minutes + ":" + seconds;
    if (left <= 300) clock.classList.replace("text-bg-dark", "text-bg-danger");
    if (left === 0) {
      // Save the answer on screen (the server accepts it for a few seconds after the deadline), or
      // come back once the server has closed the exam and can show the results.
      const form = document.getElementById("exam-form");
      if (form) form.requestSubmit(form.querySelector("button[value=overview]"));
      else window.setTimeout(function () { window.location.reload(); }, 6000);
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
