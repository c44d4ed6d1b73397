/* The counter tablet's page (templates/kiosk/index.html). With JavaScript the form is not
   posted: each answer is checked here, queued in IndexedDB with an id made on the tablet,
   and sent to the sync endpoint (portal/kiosk/views.py) as soon as the network allows —
   at once, when the network comes back, and every few seconds while any wait. An answer
   leaves the queue only when the server says it is stored (or was stored before);
   one it refuses is dropped and counted, never retried for ever. The service worker
   (templates/kiosk/sw.js) keeps this page working offline. After each answer, and after
   a minute untouched, the form starts over for the next shopper (a page is loaded again
   only for another language or a new survey version). Every word shown comes
   from the page (data-* attributes written by the server in its language). */
(function () {
  "use strict";
  var form = document.querySelector("form.kiosk-survey");
  if (!form || !window.indexedDB || !window.Promise) { return; }
  var data = form.dataset;
  var status = document.getElementById("kiosk-status");
  var refusedLine = document.getElementById("kiosk-refused");
  var alertBox = document.getElementById("kiosk-alert");
  var startBox = document.getElementById("kiosk-start");
  var thanksBox = document.getElementById("kiosk-thanks");
  var codeInput = document.getElementById("receipt_code");
  var CODE = codeInput ? codeInput.name : "receipt_code";
  var BATCH = 20;
  var RETRY_MS = 15000;
  var HEARTBEAT_MS = 5 * 60 * 1000;
  var SUBMIT_WAIT_MS = 5000;
  var IDLE_MS = parseInt(data.idleSeconds, 10) * 1000;
  var THANKS_MS = parseInt(data.thanksSeconds, 10) * 1000;

  /* -- the queue -------------------------------------------------------------------- */

  var STORE = "answers";
  var database = new Promise(function (resolve, reject) {
    var opening = indexedDB.open("kiosk", 1);
    opening.onupgradeneeded = function () {
      opening.result.createObjectStore(STORE, { keyPath: "id" });
    };
    opening.onsuccess = function () { resolve(opening.result); };
    opening.onerror = function () { reject(opening.error); };
  });

  function inStore(mode, act) {
    return database.then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var asked = act(transaction.objectStore(STORE));
        transaction.oncomplete = function () { resolve(asked.result); };
        transaction.onerror = transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  var queue = {
    add: function (item) { return inStore("readwrite", function (s) { return s.put(item); }); },
    remove: function (id) { return inStore("readwrite", function (s) { return s.delete(id); }); },
    clear: function () { return inStore("readwrite", function (s) { return s.clear(); }); },
    count: function () { return inStore("readonly", function (s) { return s.count(); }); },
    all: function () {
      return inStore("readonly", function (s) { return s.getAll(); }).then(function (items) {
        return items.sort(function (a, b) { return a.answered_at < b.answered_at ? -1 : 1; });
      });
    }
  };

  /* -- what the badge says ------------------------------------------------------------ */

  var state = { online: navigator.onLine, revoked: false };

  function counted(template, n) { return template.replace("{n}", String(n)); }

  function today() {
    var now = new Date();
    return now.getFullYear() + "-" + (now.getMonth() + 1) + "-" + now.getDate();
  }

  function refusedToday() {
    try {
      var kept = JSON.parse(localStorage.getItem("kiosk-refused") || "{}");
      return kept.day === today() ? kept.n : 0;
    } catch (error) { return 0; }
  }

  function addRefused(n) {
    if (!n) { return; }
    try {
      localStorage.setItem("kiosk-refused", JSON.stringify({ day: today(), n: refusedToday() + n }));
    } catch (error) { /* a full or refused storage: the count is only for the staff */ }
  }

  function show() {
    return queue.count().then(function (waiting) {
      var said = status.dataset;
      var text = waiting === 1 ? said.waitingOne : counted(said.waitingOther, waiting);
      var kind = waiting ? "waiting" : "sent";
      if (state.revoked) {
        kind = "revoked";
        text = said.revoked;
      } else if (!state.online) {
        kind = "offline";
        text = said.offline + (waiting ? " · " + text : "");
      } else if (!waiting) {
        text = said.sent;
      }
      status.dataset.state = kind;
      status.textContent = text;
      var refused = refusedToday();
      refusedLine.hidden = refused === 0;
      var lines = refusedLine.dataset;
      refusedLine.textContent = refused === 1 ? lines.refusedOne : counted(lines.refusedOther, refused);
    });
  }

  /* -- sending --------------------------------------------------------------------------- */

  var running = null;
  /* The answer being sent from the form right now: if the server refuses it, the shopper
     is shown why rather than it being counted as dropped. */
  var current = null;

  function lastContact() { return parseInt(localStorage.getItem("kiosk-contact") || "0", 10); }

  function switchedOff() {
    state.revoked = true;
    return queue.count().then(function (waiting) {
      addRefused(waiting);
      return queue.clear();
    }).then(function () { return false; });
  }

  function sendBatch(batch, results) {
    return fetch(data.syncUrl, {
      method: "POST",
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Content-Type": "application/json", "X-Kiosk-Sync": "1" },
      body: JSON.stringify({ answers: batch })
    }).then(function (response) {
      state.online = true;
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.status === 403 && body && body.error && body.error.code === "kiosk_revoked") {
          return switchedOff();
        }
        if (!response.ok || !body || !Array.isArray(body.results)) { return false; }
        localStorage.setItem("kiosk-contact", String(Date.now()));
        return Promise.all(body.results.map(function (result) {
          if (!result.id) { return null; }
          results[result.id] = result;
          if (result.status === "rejected" && result.id !== current) { addRefused(1); }
          return queue.remove(result.id);
        })).then(function () { return true; });
      });
    }, function () {
      state.online = false;
      return false;
    });
  }

  function sendAll(heartbeat) {
    return queue.all().then(function (items) {
      var results = {};
      if (!items.length && !heartbeat) { return results; }
      var batches = [];
      for (var i = 0; i < items.length; i += BATCH) { batches.push(items.slice(i, i + BATCH)); }
      if (!batches.length) { batches.push([]); }
      return batches.reduce(function (done, batch) {
        return done.then(function (goOn) { return goOn && sendBatch(batch, results); });
      }, Promise.resolve(true)).then(function () { return results; });
    });
  }

  /* Send the queue (after any sending under way); resolves with the server's results by
     answer id. */
  function sync(heartbeat) {
    var after = running || Promise.resolve();
    var mine = after.then(function () {
      // The browser knows it has no network at all: wait for its "online" event.
      state.online = state.online && navigator.onLine;
      if (state.revoked || !navigator.onLine) { return {}; }
      return sendAll(heartbeat);
    }).catch(function () { return {}; });
    running = mine.then(function (results) {
      if (running === mine) { running = null; }
      return show().then(function () { return results; });
    });
    return running;
  }

  window.addEventListener("online", function () { state.online = true; sync(false); });
  window.addEventListener("offline", function () { state.online = false; show(); });
  setInterval(function () {
    queue.count().then(function (waiting) {
      if (waiting) { sync(false); } else if (Date.now() - lastContact() > HEARTBEAT_MS) { sync(true); }
    });
  }, RETRY_MS);

  /* -- checking and collecting the answers ---------------------------------------------- */

  function shown(node) { return !node.hidden && node.offsetParent !== null; }

  function answered(question) {
    var picked = question.querySelector("input[type=radio]:checked, input[type=checkbox]:checked");
    if (picked) { return true; }
    var typed = question.querySelectorAll("input[type=text], input[type=email], input[type=tel], textarea");
    return Array.prototype.some.call(typed, function (box) { return box.value.trim() !== ""; });
  }

  function valueOf(id) {
    var box = document.getElementById(id);
    return box ? box.value.trim() : "";
  }

  function check() {
    var problems = [];
    Array.prototype.forEach.call(form.querySelectorAll(".question[data-key]"), function (question) {
      var key = question.dataset.key;
      if (!shown(question) || key === "contact" || answered(question)) { return; }
      if (key === "nps" || key === "csat" || question.querySelector(".req")) {
        problems.push({ field: key, message: data.messageRequired });
      } else if (key === "problem_category" && (document.getElementById("problem") || {}).checked) {
        problems.push({ field: key, message: data.messageCategory });
      }
    });
    var consent = document.getElementById("contact_consent");
    if (consent && shown(consent)) {
      var details = valueOf("contact_phone") || valueOf("contact_email");
      if (consent.checked && !details) {
        problems.push({ field: "contact", message: data.messageContact });
      } else if (!consent.checked && details) {
        problems.push({ field: "contact", message: data.messageConsent });
      }
    }
    return problems;
  }

  function place(field) {
    return document.getElementById("question-" + field) || document.getElementById(field + "-field");
  }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".errors"), function (list) {
      list.parentNode.removeChild(list);
    });
    Array.prototype.forEach.call(form.querySelectorAll(".has-error"), function (box) {
      box.classList.remove("has-error");
    });
    alertBox.hidden = true;
  }

  function showErrors(problems) {
    var first = null;
    problems.forEach(function (problem) {
      var box = place(problem.field);
      if (!box) { return; }
      var list = document.createElement("ul");
      var line = document.createElement("li");
      list.className = "errors";
      line.textContent = problem.message;
      list.appendChild(line);
      box.insertBefore(list, box.firstChild);
      box.classList.add("has-error");
      first = first || box;
    });
    alertBox.textContent = data.messageCheck;
    alertBox.hidden = false;
    (first || alertBox).scrollIntoView({ block: "center" });
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 15) | 64;
    bytes[8] = (bytes[8] & 63) | 128;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); });
    return [0, 4, 6, 8, 10].map(function (at, n, ends) {
      return hex.slice(at, ends[n + 1] || 16).join("");
    }).join("-");
  }

  function collect() {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.name === "csrf_token" || field.name === CODE || field.disabled) { return; }
      if ((field.type === "radio" || field.type === "checkbox") && !field.checked) { return; }
      if (field.type === "submit") { return; }
      var multiple = field.type === "checkbox" && field.closest('.question[data-kind="multiple"]');
      if (multiple) {
        values[field.name] = (values[field.name] || []).concat([field.value]);
      } else {
        values[field.name] = field.value;
      }
    });
    return {
      id: newId(),
      answered_at: new Date().toISOString(),
      locale: data.locale,
      version: parseInt(data.version, 10),
      receipt_code: codeInput ? codeInput.value.trim() : "",
      values: values
    };
  }

  /* -- one shopper after another --------------------------------------------------------- */

  var busy = false;
  var lastTouch = Date.now();
  var thanksTimer = null;
  /* A new service worker took over (a new survey version, new files): the next shopper
     gets a freshly loaded page rather than this one. */
  var stale = false;

  /* The next shopper starts on a clean form, in the tablet's own language. Within the
     page when it can (nothing to load: the same with or without a network). */
  function startOver() {
    if (stale || location.search) {
      location.replace(data.startUrl);
      return;
    }
    clearTimeout(thanksTimer);
    form.reset();
    clearErrors();
    form.dispatchEvent(new Event("change"));  // survey.js shows and hides as answered
    thanksBox.hidden = true;
    startBox.hidden = false;
    window.scrollTo(0, 0);
    lastTouch = Date.now();
    busy = false;
  }

  function thank() {
    startBox.hidden = true;
    thanksBox.hidden = false;
    window.scrollTo(0, 0);
    thanksTimer = setTimeout(startOver, THANKS_MS);
  }

  function waitFor(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms, null); }); }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }
    clearErrors();
    var problems = check();
    if (problems.length) {
      showErrors(problems);
      return;
    }
    busy = true;
    var item = collect();
    queue.add(item).then(function () {
      current = item.id;
      show();
      var online = state.online && navigator.onLine;
      return online ? Promise.race([sync(false), waitFor(SUBMIT_WAIT_MS)]) : null;
    }, function () {
      // No queue on this tablet (storage refused): send the form the plain way.
      form.submit();
      throw new Error("posted");
    }).then(function (results) {
      current = null;
      var result = results && results[item.id];
      var rejected = result && result.status === "rejected";
      var onForm = rejected ? result.reasons.filter(function (r) { return r.field && place(r.field); }) : [];
      busy = false;
      if (onForm.length) {
        showErrors(onForm);
        return;
      }
      if (rejected) { addRefused(1); }
      thank();
    }).catch(function () { current = null; });
  });

  document.getElementById("kiosk-next").addEventListener("click", startOver);

  ["pointerdown", "keydown", "input", "scroll"].forEach(function (kind) {
    document.addEventListener(kind, function () { lastTouch = Date.now(); }, { passive: true });
  });

  function touched() {
    if (!thanksBox.hidden || location.search) { return true; }
    return Array.prototype.some.call(form.elements, function (field) {
      if (field.type === "radio" || field.type === "checkbox") { return field.checked; }
      return field.type !== "hidden" && field.type !== "submit" && field.value !== "";
    });
  }

  setInterval(function () {
    if (!busy && Date.now() - lastTouch > IDLE_MS && touched()) { startOver(); }
  }, 5000);

  if ("serviceWorker" in navigator) {
    var controlled = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      stale = controlled;
      controlled = true;
    });
    navigator.serviceWorker.register(data.workerUrl, { scope: data.scope }).then(function (worker) {
      // The page is rarely reloaded: ask now and then whether the survey changed.
      setInterval(function () { worker.update().catch(function () {}); }, HEARTBEAT_MS);
    }, function () { /* Without the worker the page still works while online. */ });
  }
  show();
  sync(Date.now() - lastContact() > HEARTBEAT_MS);
}());
