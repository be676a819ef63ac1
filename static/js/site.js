// Reading-page behaviour: previews of glossary terms and citations (WCAG 2.2 SC 1.4.13),
// the section being read (contents highlight, depth switch to the same section), folded
// panels on phones, and focus after htmx swaps. Everything works without it.
// No inline styles survive in the DOM (strict CSP): positions are set through the CSSOM
// and removed when a preview hides and before htmx snapshots the page for history.
(function () {
  "use strict";
  var SHOW_DELAY = 350; // hover intent: crossing a paragraph does not flash previews
  var SWITCH_DELAY = 120; // moving from one open preview to the next term
  var HIDE_DELAY = 300;
  var wide = window.matchMedia("(min-width: 64rem)");

  var current = null; // {link, tip}
  var showTimer = null;
  var hideTimer = null;
  var lastPointer = "mouse";
  var openBeforeTap = false;

  function trigger(target) {
    return target && target.closest ? target.closest("a.term, sup.cite a") : null;
  }
  function isCite(link) {
    return link.matches("sup.cite a");
  }

  // One citation preview per document, filled from the reference list on demand.
  function citePreview(link) {
    var ref = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    var text = ref && ref.querySelector(".ref-text");
    var lesson = link.closest("#lesson") || document.body;
    if (!text) return null;
    var tip = document.getElementById("cite-preview");
    if (tip && !lesson.contains(tip)) { tip.remove(); tip = null; }
    if (!tip) {
      tip = document.createElement("span");
      tip.id = "cite-preview";
      tip.className = "tip cite-tip";
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      (lesson.querySelector(".tips") || lesson).appendChild(tip);
    }
    tip.textContent = "";
    var head = document.createElement("strong");
    head.className = "tip-title";
    head.textContent = "Reference " + link.textContent;
    var body = text.cloneNode(true);
    body.querySelectorAll("a").forEach(function (a) { a.tabIndex = -1; });
    var go = document.createElement("a");
    go.className = "tip-open";
    go.href = link.hash;
    go.tabIndex = -1;
    go.textContent = "Go to the reference list";
    tip.append(head, body, go);
    return tip;
  }

  function tipFor(link) {
    if (isCite(link)) return citePreview(link);
    var id = link.getAttribute("aria-describedby");
    var lesson = link.closest("#lesson") || document;
    // Look inside the link's own lesson: a stale node elsewhere can never answer.
    return id ? lesson.querySelector("#" + CSS.escape(id)) : null;
  }

  function place(link, tip) {
    tip.hidden = false;
    var r = link.getClientRects()[0] || link.getBoundingClientRect();
    var t = tip.getBoundingClientRect();
    var base = (tip.offsetParent || document.body).getBoundingClientRect();
    var gap = 8;
    var top = r.bottom + gap;
    // Never cover the term: go above it when there is no room below.
    if (top + t.height > window.innerHeight && r.top - gap - t.height > 0) top = r.top - gap - t.height;
    var left = Math.max(8, Math.min(r.left, document.documentElement.clientWidth - t.width - 8));
    tip.style.setProperty("top", top - base.top + "px");
    tip.style.setProperty("left", left - base.left + "px");
  }

  function show(link) {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    if (current && current.link === link && !current.tip.hidden) return;
    var tip = tipFor(link);
    if (!tip) return;
    if (current) hide();
    current = { link: link, tip: tip };
    if (isCite(link)) link.setAttribute("aria-describedby", "cite-preview");
    place(link, tip);
  }

  function hide() {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    if (!current) return;
    current.tip.hidden = true;
    current.tip.removeAttribute("style");
    if (isCite(current.link)) current.link.removeAttribute("aria-describedby");
    current = null;
  }

  function showSoon(link) {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    showTimer = setTimeout(function () { show(link); }, current ? SWITCH_DELAY : SHOW_DELAY);
  }

  function hideSoon() {
    clearTimeout(showTimer);
    clearTimeout(hideTimer);
    hideTimer = setTimeout(hide, HIDE_DELAY);
  }

  document.addEventListener("pointerdown", function (e) {
    lastPointer = e.pointerType || "mouse";
    var link = trigger(e.target);
    // Focus follows pointerdown and opens the preview, so remember the state before it.
    openBeforeTap = !!(link && current && current.link === link);
  }, true);
  document.addEventListener("pointerover", function (e) {
    if (e.pointerType === "touch") return;
    var link = trigger(e.target);
    if (link) return showSoon(link);
    if (current && current.tip.contains(e.target)) clearTimeout(hideTimer);
  });
  document.addEventListener("pointerout", function (e) {
    if (e.pointerType === "touch") return;
    var to = e.relatedTarget;
    var link = trigger(e.target);
    if (link && (!current || current.link !== link)) {
      if (!(to && link.contains(to))) clearTimeout(showTimer);
      return;
    }
    if (!current) return;
    if (to && (current.link.contains(to) || current.tip.contains(to))) return;
    if (link === current.link || current.tip.contains(e.target)) {
      if (document.activeElement !== current.link || lastPointer !== "keyboard") hideSoon();
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Tab") lastPointer = "keyboard";
    if (e.key === "Escape" && current) {
      hide();
    }
  });
  document.addEventListener("focusin", function (e) {
    var link = trigger(e.target);
    if (link && lastPointer === "keyboard") show(link);
    else if (link && lastPointer !== "touch") showSoon(link);
    else if (current && !current.tip.contains(e.target) && !link) hide();
  });
  document.addEventListener("focusout", function (e) {
    if (current && trigger(e.target) === current.link && lastPointer === "keyboard") hideSoon();
  });
  document.addEventListener("click", function (e) {
    var link = trigger(e.target);
    if (link && lastPointer === "touch") {
      if (isCite(link) && openBeforeTap) { hide(); return; } // second tap: go to the reference
      // A tap opens the preview (the card's own link navigates); a second tap closes it.
      e.preventDefault();
      if (openBeforeTap) hide(); else show(link);
    } else if (current && !link && !current.tip.contains(e.target)) {
      hide();
    } else if (current && current.tip.contains(e.target) && e.target.closest("a")) {
      hide();
    }
  });
  window.addEventListener("resize", function () { if (current) place(current.link, current.tip); });

  // --- The section being read ------------------------------------------------------------
  function depthBar() {
    return document.querySelector(".depth");
  }

  function currentHeading() {
    var headings = document.querySelectorAll("#lesson .prose > h2[id]");
    var bar = depthBar();
    var line = Math.max((bar ? bar.getBoundingClientRect().bottom : 0) + 40, window.innerHeight * 0.2);
    var found = null;
    for (var i = 0; i < headings.length; i++) {
      if (headings[i].getBoundingClientRect().top <= line) found = headings[i]; else break;
    }
    return found;
  }

  // The same section at another depth: the "This section at" links under the heading, or
  // under the nearest earlier heading that has them (a section with no counterpart).
  function sectionLink(heading, tier) {
    for (var h = heading; h; h = h.previousElementSibling) {
      if (h.tagName !== "H2") continue;
      var next = h.nextElementSibling;
      var link = next && next.classList.contains("also-at") ? next.querySelector('a[data-tier="' + tier + '"]') : null;
      if (link) return link.getAttribute("href");
    }
    return null;
  }

  var spyQueued = false;
  function spy() {
    spyQueued = false;
    var heading = currentHeading();
    document.querySelectorAll(".toc a").forEach(function (a) {
      if (heading && a.hash === "#" + heading.id) a.setAttribute("aria-current", "location");
      else a.removeAttribute("aria-current");
    });
    document.querySelectorAll(".depth-link:not([aria-current])").forEach(function (a) {
      var base = a.getAttribute("hx-get");
      var target = heading && sectionLink(heading, a.dataset.tier);
      a.setAttribute("href", target || base);
    });
  }
  function queueSpy() {
    if (!spyQueued) { spyQueued = true; requestAnimationFrame(spy); }
  }
  window.addEventListener("scroll", queueSpy, { passive: true });

  // htmx reads hx-get when it first sees the link; send it to the section-aware href instead.
  document.addEventListener("htmx:configRequest", function (e) {
    var elt = e.detail.elt;
    if (elt && elt.classList && elt.classList.contains("depth-link")) e.detail.path = elt.getAttribute("href");
  });

  // --- Folded panels: open beside the text on wide screens, folded on phones -------------
  function unfold() {
    document.querySelectorAll("details[data-open-wide]").forEach(function (d) {
      d.open = wide.matches;
      if (d.classList.contains("toc")) {
        var summary = d.querySelector("summary");
        if (wide.matches) summary.setAttribute("tabindex", "-1"); else summary.removeAttribute("tabindex");
      }
    });
  }
  if (wide.addEventListener) wide.addEventListener("change", unfold);
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
  });

  function ready() {
    unfold();
    spy();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready); else ready();

  // --- htmx: clean snapshots, focus and place after a swap --------------------------------
  function cleanForHistory() {
    hide();
    var preview = document.getElementById("cite-preview");
    if (preview) preview.remove();
    document.querySelectorAll("[style]").forEach(function (el) {
      if (!el.closest("svg")) el.removeAttribute("style");
    });
  }
  document.addEventListener("htmx:beforeHistorySave", cleanForHistory);
  document.addEventListener("htmx:beforeSwap", hide);
  document.addEventListener("htmx:historyRestore", function () {
    ready();
    // A restored page keeps the search box's value attribute from when it was first served,
    // not what was typed: put back the query its URL and results are for.
    var box = document.getElementById("search-q");
    if (box) box.value = new URLSearchParams(location.search).get("q") || "";
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    var target = e.detail && e.detail.elt;
    if (target && target.id === "lesson") {
      unfold();
      var info = e.detail.pathInfo || {};
      var hash = info.anchor || location.hash.slice(1);
      var anchor = hash ? document.getElementById(decodeURIComponent(hash)) : null;
      if (anchor && target.contains(anchor)) {
        // htmx scrolls the anchor into view right after this event.
        if (!anchor.hasAttribute("tabindex")) anchor.setAttribute("tabindex", "-1");
        anchor.focus({ preventScroll: true });
      } else {
        var heading = document.getElementById("lesson-title");
        if (heading) heading.focus({ preventScroll: true });
        if (target.getBoundingClientRect().top < 0) target.scrollIntoView({ block: "start" });
      }
      queueSpy();
    }
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
  // One progress request at a time: each response sets the progress cookie from the cookie
  // its request carried, so two requests in flight would let the later answer undo the other
  // (the section update could take back "read").
  var queue = Promise.resolve();

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
    var request = queue.then(function () {
      return fetch(s.url, {
        method: "POST", body: data, credentials: "same-origin", keepalive: true,
        headers: { "X-CSRFToken": csrfToken() }
      }).then(function (r) { return r.ok; }, function () { return false; });
    });
    queue = request;
    return request;
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
    var tab = document.querySelector("#lesson .depth a[aria-current='page']");
    var path = tab ? new URL(tab.href, location.href).pathname : location.pathname;
    var words = (prose.textContent.match(/\S+/g) || []).length;
    var s = {
      article: article, url: path.replace(/\/?$/, "/") + "progress/", opened: Date.now(),
      dwell: Math.min(45, Math.max(5, (words / 250) * 60 * 0.25)) * 1000,
      section: "", furthest: -1, sent: "", done: false, timer: null, debounce: null
    };
    var headings = Array.prototype.filter.call(prose.querySelectorAll("h2[id]"), function (h) {
      // The page's own headings, not those of the evidence legend, references or footnotes:
      // only the tier's sections are places the server knows (it refuses any other).
      return !h.closest("section.references, .footnote, .evidence-legend");
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
