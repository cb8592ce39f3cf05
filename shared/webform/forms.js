/* Lead nurturing: the script for the website forms (GET /forms.js).
 *
 * Enhances every <form data-nurture-form> on the page. The form works
 * without it as plain HTML; with it the post also says when the form was
 * shown and sent (a post within seconds is a bot's), carries a nonce per
 * page view (a double-click is one download, a later visit another), the
 * page, its referrer, the campaign (utm_*) and the visitor's time zone.
 * A form with data-nurture-fetch is sent in the background and answered in
 * place: a thank-you with the link to the content, or a message at each
 * field to correct; if that fails, the form is posted the plain way.
 * No dependencies, no cookies, nothing stored in the browser. */
(function () {
  "use strict";
  // Pasted once per form, the script may run more than once on a page.
  if (window.__nurtureForms) return;
  window.__nurtureForms = true;

  var FORMS = "form[data-nurture-form]";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  function nonce() {
    var b = new Uint8Array(12);
    window.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  function timeZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return ""; }
  }

  // field returns the form's input called name, adding a hidden one.
  function field(form, name) {
    var el = form.querySelector('input[name="' + name + '"]');
    if (!el) {
      el = document.createElement("input");
      el.type = "hidden";
      el.name = name;
      form.appendChild(el);
    }
    return el;
  }

  function set(form, name, value) { field(form, name).value = value; }

  // enhance adds what the page knows; shown is false for a form first seen
  // when it is sent, whose time on the page is unknown.
  function enhance(form, shown) {
    if (form.getAttribute("data-nurture-ready")) return;
    form.setAttribute("data-nurture-ready", "1");
    if (shown) set(form, "_t", String(Date.now()));
    set(form, "submission", nonce());
    set(form, "page", location.href.split("#")[0]);
    set(form, "referrer", document.referrer);
    set(form, "tz", timeZone());
    var q = new URLSearchParams(location.search);
    UTM.forEach(function (name) {
      var v = q.get(name), el = form.querySelector('input[name="' + name + '"]');
      // A value the site put in the form itself wins.
      if (v && !(el && el.value)) set(form, name, v);
    });
  }

  function enhanceAll() {
    Array.prototype.forEach.call(document.querySelectorAll(FORMS), function (f) { enhance(f, true); });
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-nurture-error]"), function (el) { el.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
  }

  function showErrors(form, fields) {
    var first = null, id = form.getAttribute("data-nurture-form");
    Object.keys(fields).forEach(function (name) {
      var msg = document.createElement("span");
      msg.className = "nurture-error";
      msg.setAttribute("data-nurture-error", name);
      msg.textContent = String(fields[name]);
      var input = /^[A-Za-z_]+$/.test(name) ? form.querySelector('[name="' + name + '"]:not([type=hidden])') : null;
      if (!input) {
        form.insertBefore(msg, form.firstChild);
        return;
      }
      msg.id = id + "-" + name + "-error";
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", msg.id);
      // After the field, or after the label around a checkbox.
      var at = input.closest("label") || input;
      at.parentNode.insertBefore(msg, at.nextSibling);
      first = first || input;
    });
    if (first) first.focus();
  }

  function thank(form, body) {
    var box = document.createElement("div");
    box.className = "nurture-thanks";
    box.setAttribute("role", "status");
    box.tabIndex = -1;
    var p = document.createElement("p");
    p.textContent = body.message || "Thank you!";
    box.appendChild(p);
    var asset = body.asset || {}, href = asset.url || body.next;
    if (/^https?:\/\//i.test(href || "")) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = asset.title ? "Open \u201c" + asset.title + "\u201d" : "Open your content";
      // In a frame, the content opens beside the site, not inside it.
      if (window.top !== window.self) { a.target = "_blank"; a.rel = "noopener"; }
      box.appendChild(a);
    }
    form.style.display = "none";
    form.parentNode.insertBefore(box, form.nextSibling);
    box.focus();
  }

  // send posts the form with fetch as a CORS "simple request" (urlencoded
  // body, no custom header), so no preflight is needed; the API answers
  // JSON because of the Accept header.
  function send(form) {
    var button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    clearErrors(form);
    var done = function () { if (button) button.disabled = false; };
    var plain = function () { done(); HTMLFormElement.prototype.submit.call(form); };
    // getAttribute: an input named "action" would hide form.action.
    fetch(new URL(form.getAttribute("action"), location.href).href, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { Accept: "application/json" },
      credentials: "omit",
    }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    }).then(function (res) {
      if (res.status === 200 && res.body.ok) {
        done();
        thank(form, res.body);
      } else if (res.status === 400 && res.body.fields) {
        done();
        showErrors(form, res.body.fields);
      } else {
        plain(); // the server's own page says what went wrong
      }
    }, plain);
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || !form.matches || !form.matches(FORMS)) return;
    enhance(form, false);
    set(form, "_s", String(Date.now()));
    if (form.hasAttribute("data-nurture-fetch") && window.fetch && window.URLSearchParams) {
      e.preventDefault();
      send(form);
    }
  });

  // A page restored from the back-forward cache is a new page view: a
  // second download gets a nonce of its own.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) return;
    Array.prototype.forEach.call(document.querySelectorAll(FORMS + "[data-nurture-ready]"), function (f) {
      set(f, "submission", nonce());
    });
  });

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enhanceAll);
  else enhanceAll();
})();
