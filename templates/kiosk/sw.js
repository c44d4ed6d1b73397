/* The tablet's service worker (served from /kiosk/sw.js, scope /kiosk/). It keeps the
   survey page in each language and the files it loads in a cache named after everything
   in it: when the survey, the branding or a file changes, this script changes, the
   browser installs it, and the old cache is deleted once the new one is complete.
   The page is asked of the network first (a fresh survey when online), from the cache
   when the network fails or is slow; the files come from the cache. Answers are not its
   business: the page queues them in IndexedDB and sends them itself. */
"use strict";
var PREFIX = "kiosk-";
var CACHE = PREFIX + {{ offline.version | tojson }};
var START = {{ offline.start_url | tojson }};
var URLS = {{ offline.urls | list | tojson }};
var PAGE_TIMEOUT_MS = 4000;

function forget(keep) {
  return caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf(PREFIX) === 0 && name !== keep;
    }).map(function (name) { return caches.delete(name); }));
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE)
      .then(function (cache) { return cache.addAll(URLS); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(forget(CACHE).then(function () { return self.clients.claim(); }));
});

function fromCache(url) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(url).then(function (hit) { return hit || cache.match(START); });
  }).then(function (hit) { return hit || Response.error(); });
}

function page(request) {
  var network = new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("slow")); }, PAGE_TIMEOUT_MS);
    fetch(request).then(function (response) {
      clearTimeout(timer);
      resolve(response);
    }, function (error) {
      clearTimeout(timer);
      reject(error);
    });
  });
  return network.then(function (response) {
    if (response.status === 403) {
      // Switched off: nothing of the survey stays on the tablet.
      return forget(null).then(function () { return response; });
    }
    if (response.status >= 500) { throw new Error("server"); }
    if (response.status === 200) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(request.url, copy); });
    }
    return response;
  }).catch(function () { return fromCache(request.url); });
}

function asset(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request.url).then(function (hit) {
      return hit || fetch(request);
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname === START) {
    event.respondWith(page(request));
  } else if (URLS.indexOf(url.pathname + url.search) !== -1) {
    event.respondWith(asset(request));
  }
});
