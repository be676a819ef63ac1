/* Admin: live preview of markdown textareas (each previews its own text at its own form's tier). */
(function () {
  "use strict";
  var DELAY = 400;
  var timers = new WeakMap();

  function paneFor(textarea) {
    var box = textarea.closest(".markdown-with-preview");
    return box && box.querySelector(".markdown-preview");
  }

  function isTemplate(textarea) {
    // The inline formset's hidden empty form, copied when "Add another" is pressed.
    return textarea.name.indexOf("__prefix__") !== -1 || textarea.closest(".empty-form") !== null;
  }

  function tierField(textarea) {
    if (!/body$/.test(textarea.name) || !textarea.form) return null;
    return textarea.form.elements.namedItem(textarea.name.replace(/body$/, "tier"));
  }

  function refresh(textarea) {
    var pane = paneFor(textarea);
    if (!pane || isTemplate(textarea)) return;
    var data = new FormData();
    data.append("field", textarea.name);
    data.append(textarea.name, textarea.value);
    var tier = tierField(textarea);
    if (tier) data.append(tier.name, tier.value);
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    var seq = String(Number(pane.dataset.seq || 0) + 1);
    pane.dataset.seq = seq;
    fetch(pane.dataset.url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"X-CSRFToken": token ? token.value : ""}
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.text();
    }).then(function (html) {
      if (pane.dataset.seq === seq) pane.innerHTML = html;  // sanitised by the server's pipeline
    }).catch(function () {
      if (pane.dataset.seq === seq) pane.textContent = "The preview could not be loaded. Your text is not affected.";
    });
  }

  function schedule(textarea) {
    clearTimeout(timers.get(textarea));
    timers.set(textarea, setTimeout(function () { refresh(textarea); }, DELAY));
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea.markdown-source")) schedule(event.target);
  });
  document.addEventListener("change", function (event) {
    var name = event.target.name || "";
    if (!/tier$/.test(name) || !event.target.form) return;
    var textarea = event.target.form.elements.namedItem(name.replace(/tier$/, "body"));
    if (textarea && textarea.matches("textarea.markdown-source")) refresh(textarea);
  });
  document.addEventListener("formset:added", function (event) {
    event.target.querySelectorAll("textarea.markdown-source").forEach(refresh);
  });

  function init() {
    document.querySelectorAll("textarea.markdown-source").forEach(refresh);
    var summary = document.querySelector(".error-summary");
    if (summary) summary.focus();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
