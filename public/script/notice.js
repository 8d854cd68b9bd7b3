/*
 * tocsin site notice. Include it on your own site with
 *   <script src="https://status.example.org/notice.js" async></script>
 * and, while an incident is marked "show on sites", a banner linking to it
 * appears at the top of the page (or inside the element whose id is given
 * in data-target). data-lang="fr" or "en" chooses the language; by default
 * the page's own <html lang> does.
 *
 * It reads /notice.json from the status page's origin, writes text only
 * (never HTML), sets no cookie and sends none, and keeps a dismissal for
 * the browser session only.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch) {
    return;
  }
  var base = new URL(script.src, document.baseURI);
  var wanted = script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "en";
  var lang = wanted.slice(0, 2).toLowerCase() === "fr" ? "fr" : "en";
  var target = script.getAttribute("data-target");

  var colors = {
    none: "#1d4ed8",
    minor: "#92400e",
    major: "#9a3412",
    critical: "#991b1b",
    maintenance: "#1d4ed8"
  };

  function dismissedKey(n) {
    return "tocsin-notice:" + n.id + ":" + n.updated_at;
  }

  function dismissed(n) {
    try {
      return window.sessionStorage.getItem(dismissedKey(n)) === "1";
    } catch (e) {
      return false;
    }
  }

  function banner(n, labels) {
    var box = document.createElement("div");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", labels.region);
    box.className = "tocsin-notice tocsin-notice-" + n.impact;
    var s = box.style;
    s.background = colors[n.impact] || colors.minor;
    s.color = "#fff";
    s.padding = "0.5em 1em";
    s.font = "15px/1.4 system-ui, sans-serif";
    s.display = "flex";
    s.gap = "1em";
    s.alignItems = "center";

    var text = document.createElement("p");
    text.style.margin = "0";
    text.style.flex = "1";
    var strong = document.createElement("strong");
    var colon = lang === "fr" ? " : " : ": "; // French sets a space before the colon
    strong.textContent = labels.incident + " · " + (n.status_label[lang] || n.status) + colon;
    text.appendChild(strong);
    text.appendChild(document.createTextNode(n.title + (n.message ? " — " + n.message : "") + " "));
    var link = document.createElement("a");
    // Relative when the page's URL is not configured: relative to the
    // status page, not to the page that includes this script.
    link.href = new URL(n.urls[lang] || n.url, base).href;
    link.textContent = labels.more;
    link.style.color = "#fff";
    link.style.textDecoration = "underline";
    text.appendChild(link);
    box.appendChild(text);

    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "×";
    close.setAttribute("aria-label", labels.dismiss);
    close.style.background = "transparent";
    close.style.color = "#fff";
    close.style.border = "1px solid #fff";
    close.style.borderRadius = "4px";
    close.style.font = "inherit";
    close.style.cursor = "pointer";
    close.addEventListener("click", function () {
      try {
        window.sessionStorage.setItem(dismissedKey(n), "1");
      } catch (e) {
        // Private browsing: the banner just goes for this page view.
      }
      box.remove();
    });
    box.appendChild(close);
    return box;
  }

  function show(doc) {
    if (!doc || !doc.active || !doc.notices) {
      return;
    }
    var labels = doc.labels[lang];
    var parent = (target && document.getElementById(target)) || document.body;
    var first = parent.firstChild;
    doc.notices.forEach(function (n) {
      if (!dismissed(n)) {
        parent.insertBefore(banner(n, labels), first);
      }
    });
  }

  fetch(new URL("notice.json", base), { credentials: "omit", mode: "cors" })
    .then(function (r) {
      return r.ok ? r.json() : null;
    })
    .then(function (doc) {
      if (document.body) {
        show(doc);
      } else {
        document.addEventListener("DOMContentLoaded", function () {
          show(doc);
        });
      }
    })
    .catch(function () {
      // The status page is unreachable: show nothing rather than break the page.
    });
})();
