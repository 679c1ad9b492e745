// Petrel's service worker: keeps the app shell (HTML, JS glue, wasm, CSS, icons) in a versioned
// cache so Petrel starts with no network. API calls and credentials never pass through a cache:
// only the shell's own files are answered here. A new version waits until the user agrees.
// scripts/make-sw.py fills VERSION and SHELL from the build when Trunk finishes.
const VERSION = "__VERSION__";
const SHELL = __SHELL__;
const CACHE = "petrel-shell-" + VERSION;

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
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // Page loads get the cached page (any client-side route is the same app).
  const path = request.mode === "navigate" ? "/" : url.pathname;
  if (!SHELL.includes(path)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const hit = await cache.match(path);
    return hit || fetch(request);
  })());
});
