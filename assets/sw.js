// Petrel's service worker (a module worker): keeps the app shell (HTML, JS glue, wasm, CSS, icons)
// in a versioned cache so Petrel starts with no network. API calls and credentials never pass
// through a cache: only the shell's own files are answered here. A new version waits until the
// user agrees. It also sends mail left waiting in the outbox after the page closed, with the
// app's own wasm core (no UI starts here). scripts/make-sw.py fills the __NAMES__ from the build.
import init, { petrel_send_waiting } from "__GLUE__";

const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const WASM = "__WASM__";
const CACHE = "petrel-shell-" + VERSION;
// What the gateway serves from the mail servers, never from the app.
const SERVER_PATHS = ["/jmap", "/.well-known/", "/rustmailer", "/petrel-demo.json"];
// Under the few minutes a browser lets one event keep a service worker alive.
const SEND_BUDGET_MS = 4 * 60 * 1000;

let core = null;
let sending = null;

// The wasm core, from this version's cache when it is there.
function loadCore() {
  if (!core) {
    core = caches.open(CACHE).then((cache) => cache.match(WASM)).then((hit) => init({ module_or_path: hit || fetch(WASM) }));
    core.catch(() => { core = null; });
  }
  return core;
}

// One send at a time here (the outbox's lock also orders it with the pages).
function sendWaiting() {
  if (!sending) {
    sending = loadCore()
      .then(() => petrel_send_waiting(SEND_BUDGET_MS))
      .then((json) => JSON.parse(json))
      .finally(() => { sending = null; });
  }
  return sending;
}

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL.map((path) => new Request(path, { cache: "reload" })))));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("petrel-shell-") && name !== CACHE) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") {
    self.skipWaiting();
  }
  // A page going away with mail waiting: keep this worker alive while it sends.
  if (event.data && event.data.type === "SEND_WAITING") {
    event.waitUntil(sendWaiting().catch(() => undefined));
  }
});

// Background Sync: the browser wakes this worker when it is online. Mail still waiting (its
// server unreachable) fails the event, so the browser tries again later.
self.addEventListener("sync", (event) => {
  if (event.tag !== "petrel-outbox") return;
  event.waitUntil(sendWaiting().then((report) => {
    if (report.waiting > 0) {
      throw new Error(report.waiting + " message(s) still waiting");
    }
  }));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // Page loads get the cached page (any client-side route is the same app), except the
  // servers' own addresses (a session URL or a download opened in a tab must reach the server).
  if (request.mode === "navigate" && SERVER_PATHS.some((prefix) => url.pathname.startsWith(prefix))) return;
  const path = request.mode === "navigate" ? "/" : url.pathname;
  if (!SHELL.includes(path)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(path);
    return hit || fetch(request);
  })());
});
