// Glossary tooltips (WCAG 2.2 SC 1.4.13) and focus management after htmx swaps.
(function () {
  "use strict";
  var current = null; // {link, tip}
  var hideTimer = null;
  var lastPointer = "mouse";
  var openBeforeTap = false;

  function tipFor(link) {
    var id = link.getAttribute("aria-describedby");
    return id ? document.getElementById(id) : null;
  }

  function place(link, tip) {
    var r = link.getBoundingClientRect();
    tip.classList.add("tip-open");
    tip.hidden = false;
    var t = tip.getBoundingClientRect();
    var gap = 8;
    var top = r.bottom + gap;
    // Never cover the term: go above it when there is no room below.
    if (top + t.height > window.innerHeight && r.top - gap - t.height > 0) {
      top = r.top - gap - t.height;
    }
    var left = Math.min(Math.max(8, r.left), window.innerWidth - t.width - 8);
    tip.style.top = top + window.scrollY + "px";
    tip.style.left = Math.max(8, left) + window.scrollX + "px";
  }

  function show(link) {
    var tip = tipFor(link);
    if (!tip) return;
    clearTimeout(hideTimer);
    if (current && current.tip !== tip) hide();
    if (tip.parentNode !== document.body) document.body.appendChild(tip);
    current = { link: link, tip: tip };
    place(link, tip);
  }

  function hide() {
    clearTimeout(hideTimer);
    if (!current) return;
    current.tip.hidden = true;
    current.tip.classList.remove("tip-open");
    current = null;
  }

  function hideSoon() {
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hide, 300);
  }

  function termLink(target) {
    return target && target.closest ? target.closest("a.term") : null;
  }

  document.addEventListener("pointerdown", function (e) {
    lastPointer = e.pointerType || "mouse";
    var link = termLink(e.target);
    // Focus follows pointerdown and opens the tooltip, so remember the state before it.
    openBeforeTap = !!(link && current && current.link === link);
  }, true);
  document.addEventListener("pointerover", function (e) {
    if (e.pointerType === "touch") return;
    var link = termLink(e.target);
    if (link) return show(link);
    if (current && current.tip.contains(e.target)) clearTimeout(hideTimer);
  });
  document.addEventListener("pointerout", function (e) {
    if (e.pointerType === "touch" || !current) return;
    var to = e.relatedTarget;
    if (to && (current.link.contains(to) || current.tip.contains(to))) return;
    if (termLink(e.target) === current.link || current.tip.contains(e.target)) {
      if (document.activeElement !== current.link) hideSoon();
    }
  });
  document.addEventListener("focusin", function (e) {
    var link = termLink(e.target);
    if (link) show(link); else if (current) hide();
  });
  document.addEventListener("focusout", function (e) {
    if (current && termLink(e.target) === current.link) hideSoon();
  });
  document.addEventListener("click", function (e) {
    var link = termLink(e.target);
    if (link && lastPointer === "touch" && !openBeforeTap) {
      // First tap shows the definition; a second tap follows the link.
      e.preventDefault();
      show(link);
    } else if (current && !link && !current.tip.contains(e.target)) {
      hide();
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && current) hide();
  });
  window.addEventListener("resize", function () { if (current) place(current.link, current.tip); });

  document.addEventListener("htmx:beforeSwap", hide);
  document.addEventListener("htmx:afterSettle", function (e) {
    var target = e.detail && e.detail.elt;
    var heading = document.getElementById("lesson-title");
    if (target && target.id === "lesson" && heading) heading.focus();
    var quizHeading = document.getElementById("quiz-heading");
    if (target && target.id === "quiz-card" && quizHeading) quizHeading.focus();
  });
})();
