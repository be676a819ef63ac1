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

// Reading progress (course map "read" and "Continue"). Tier pages are cached for every
// reader, so they carry no per-reader state: this posts to the tier's progress/ URL with
// the CSRF cookie. A tier counts as read once its end has been on screen and the page has
// been open for a quarter of its reading time (at least 5 s, at most 45 s): opening a tier
// is not reading it. The furthest section reached is sent too, for "Continue".
(function () {
  "use strict";
  var state = null;

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function send(s, done) {
    var data = new URLSearchParams();
    if (s.section) data.set("section", s.section);
    if (done) data.set("done", "1");
    var key = data.toString();
    if (key === s.sent) return Promise.resolve(false);
    s.sent = key;
    return fetch(s.url, {
      method: "POST", body: data, credentials: "same-origin", keepalive: true,
      headers: { "X-CSRFToken": csrfToken() }
    }).then(function (r) { return r.ok; }, function () { return false; });
  }

  function announceRead(s) {
    var cta = s.article.querySelector(".quiz-cta");
    var note = document.createElement("p");
    note.className = "read-note";
    note.setAttribute("role", "status");
    note.textContent = "✓ Counted as read on your course map.";
    s.article.insertBefore(note, cta || null);
  }

  function finish(s) {
    if (s.done || state !== s) return;
    s.done = true;
    send(s, true).then(function (ok) { if (ok && state === s) announceRead(s); });
  }

  function stop() {
    if (!state) return;
    state.observer.disconnect();
    clearTimeout(state.timer);
    clearTimeout(state.debounce);
    state = null;
  }

  function start() {
    stop();
    var article = document.querySelector("#lesson .tier-article");
    var prose = article && article.querySelector(".prose");
    if (!prose || !("IntersectionObserver" in window) || !window.fetch) return;
    var tab = document.querySelector("#lesson .tier-tabs a[aria-current='page']");
    var path = tab ? new URL(tab.href, location.href).pathname : location.pathname;
    var words = (prose.textContent.match(/\S+/g) || []).length;
    var s = {
      article: article, url: path.replace(/\/?$/, "/") + "progress/", opened: Date.now(),
      dwell: Math.min(45, Math.max(5, (words / 250) * 60 * 0.25)) * 1000,
      section: "", furthest: -1, sent: "", done: false, timer: null, debounce: null
    };
    var headings = Array.prototype.filter.call(prose.querySelectorAll("h2[id]"), function (h) {
      return !h.closest("section.references, .footnote");
    });
    var children = Array.prototype.filter.call(prose.children, function (el) { return !el.classList.contains("tips"); });
    var end = prose.querySelector("section.references, .footnote") || children[children.length - 1] || article.querySelector(".quiz-cta");
    s.observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        if (entry.target === end) {
          var left = s.dwell - (Date.now() - s.opened);
          if (left <= 0) finish(s); else if (!s.timer) s.timer = setTimeout(function () { finish(s); }, left);
          return;
        }
        var i = headings.indexOf(entry.target);
        if (i > s.furthest) {
          s.furthest = i;
          s.section = entry.target.id;
          clearTimeout(s.debounce);
          s.debounce = setTimeout(function () { if (!s.done) send(s, false); }, 1500);
        }
      });
    }, { rootMargin: "0px 0px -50% 0px" });
    headings.forEach(function (h) { s.observer.observe(h); });
    if (end) s.observer.observe(end);
    state = s;
  }

  start();
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail && e.detail.elt && e.detail.elt.id === "lesson") start();
  });
})();

// Quiz: a multiple-select answer needs at least one box ticked. Checked here before the
// request (the server still refuses an empty answer), with the message inside the form.
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-require-one]")) return;
    if (form.querySelector("input[name=choice]:checked")) return;
    e.preventDefault();
    e.stopPropagation(); // keep htmx's own submit handler on the form from sending it
    var message = form.querySelector(".choice-error");
    if (message) message.hidden = false;
    var fieldset = form.querySelector("fieldset");
    if (fieldset) fieldset.setAttribute("aria-invalid", "true");
    var first = form.querySelector("input[name=choice]");
    if (first) first.focus();
  }, true);
  document.addEventListener("change", function (e) {
    var form = e.target.form;
    if (!form || !form.matches("form[data-require-one]")) return;
    var message = form.querySelector(".choice-error");
    if (message && form.querySelector("input[name=choice]:checked")) {
      message.hidden = true;
      form.querySelector("fieldset").removeAttribute("aria-invalid");
    }
  });

  // An answer the server refuses (400, 409, 429) comes back as the quiz card and is swapped in
  // like any other (htmx-config in base.html). In DEBUG, django-htmx's error handler would
  // replace the whole document with it; a fragment is a handled answer, so stop it there.
  document.addEventListener("htmx:beforeOnLoad", function (e) {
    var xhr = e.detail && e.detail.xhr;
    if (!xhr || xhr.status < 400 || xhr.status >= 500) return;
    if (!/<html[\s>]/i.test(xhr.responseText || "")) e.stopPropagation();
  }, true);
})();
