// petrel-edge in Deno (Deno Deploy); scripts/build-edge copies it into dist-edge/worker/ beside the
// manifest it imports. Usage:
//   deno run --allow-net --allow-read=dist,dist-edge --allow-env dist-edge/worker/deno.js [APP_DIR]
// Settings from the environment: PETREL_JMAP_UPSTREAM, PETREL_CORS_ORIGINS, and PORT / HOSTNAME
// to listen on (Deno Deploy sets its own). The app's files are read from APP_DIR (default dist).
import manifest from "./petrel-edge-manifest.json" with { type: "json" };
import { handle, settingsFrom } from "./petrel-edge.js";

const appDir = Deno.args[0] ?? decodeURIComponent(new URL("../../dist", import.meta.url).pathname);
const settings = settingsFrom((name) => Deno.env.get(name));

const assets = {
  async fetch(file) {
    try {
      const opened = await Deno.open(`${appDir}${file}`, { read: true });
      const { size } = await opened.stat();
      return new Response(opened.readable, { headers: { "content-length": String(size) } });
    } catch {
      return new Response(null, { status: 404 });
    }
  },
};

// Deno's fetch decodes what it is sent and has no way not to: the server is asked for no encoding
// (a decoded body under the server's Content-Encoding would be garbage to the browser).
function fetchUpstream(target, init) {
  init.headers.set("accept-encoding", "identity");
  return fetch(target, init);
}

// A close code the relay may send on (1005 and 1006 only report what happened).
const relayable = (code) => (code === 1000 || (code >= 3000 && code < 5000) ? code : 1000);

// Deno answers the browser's upgrade itself and opens its own socket upstream (Deno's WebSocket
// takes headers), relaying text frames both ways until either side closes.
async function proxyWebSocket(request, target, headers) {
  // A browser sends the credentials of a WebSocket URL only once a 401 asks for them.
  if (!headers.has("authorization")) {
    return new Response("sign in first", { status: 401, headers: { "www-authenticate": 'Basic realm="Petrel"' } });
  }
  target.protocol = target.protocol === "https:" ? "wss:" : "ws:";
  const protocols = (request.headers.get("sec-websocket-protocol") || "").split(",").map((p) => p.trim()).filter(Boolean);
  const forwarded = {};
  for (const name of ["authorization", "x-forwarded-host", "x-forwarded-proto"]) {
    if (headers.has(name)) forwarded[name] = headers.get(name);
  }
  // The server's verdict on the credentials first: a WebSocket that fails says nothing of why,
  // and the app must see a 401 as such (it asks the user to sign in again).
  const asked = await fetch(new URL("/.well-known/jmap", target.href.replace(/^ws/, "http")), {
    headers: { authorization: forwarded.authorization }, redirect: "manual",
  });
  await asked.body?.cancel();
  if (asked.status === 401 || asked.status === 403) {
    return new Response("the mail server refused these credentials", { status: asked.status });
  }
  const server = new WebSocket(target, { protocols, headers: forwarded });
  return new Promise((resolve) => {
    server.onopen = () => {
      const { socket, response } = Deno.upgradeWebSocket(request, { protocol: server.protocol || undefined });
      const pending = [];
      socket.onopen = () => pending.splice(0).forEach((m) => socket.send(m));
      server.onmessage = (e) => (socket.readyState === WebSocket.OPEN ? socket.send(e.data) : pending.push(e.data));
      socket.onmessage = (e) => server.readyState === WebSocket.OPEN && server.send(e.data);
      socket.onclose = (e) => server.close(relayable(e.code), e.reason);
      server.onclose = (e) => socket.readyState <= WebSocket.OPEN && socket.close(relayable(e.code), e.reason);
      resolve(response);
    };
    server.onerror = () => resolve(new Response("the mail server refused the WebSocket", { status: 502 }));
  });
}

const port = Number(Deno.env.get("PORT") ?? 8000);
const hostname = Deno.env.get("HOSTNAME") ?? "127.0.0.1";
Deno.serve({ port, hostname }, (request) => handle(request, { settings, manifest, assets, fetchUpstream, proxyWebSocket }));
