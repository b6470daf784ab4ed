// Live preview for the Markdown editor: the server renders and sanitises (the same code trainees get);
// this only sends the text, a moment after the author stops typing, and shows the answer.
document.querySelectorAll("[data-preview-target]").forEach(function (editor) {
  const target = document.querySelector(editor.dataset.previewTarget);
  const token = editor.form.querySelector("input[name=csrf_token]").value;
  let timer = null;
  let sent = 0;
  function refresh() {
    const number = ++sent;
    const body = new URLSearchParams({text: editor.value, path: editor.dataset.path, csrf_token: token});
    fetch(editor.dataset.previewUrl, {method: "POST", body: body, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) { if (number === sent) { target.innerHTML = data.html; } })
      .catch(function () { target.textContent = "The preview is not available right now; your text is safe in the editor."; });
  }
  editor.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 300); });
  refresh();
});
