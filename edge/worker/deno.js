// petrel-edge in Deno (Deno Deploy); scripts/build-edge copies it into dist-edge/worker/ beside the
// manifest it imports. Usage:
//   deno run --allow-net --allow-read=dist,dist-edge --allow-env dist-edge/worker/deno.js [APP_DIR]
// Settings from the environment: PETREL_JMAP_UPSTREAM, PETREL_CORS_ORIGINS, and PORT / HOSTNAME
// to listen on (Deno Deploy sets its own). The app's files are read from APP_DIR (default dist).
import manifest from "./petrel-edge-manifest.json" with { type: "json" };
import { handle, settingsFrom } from "./petrel-edge.js";

const appDir = Deno.args[0] ?? new URL("../../dist", import.meta.url).pathname;
const settings = settingsFrom((name) => Deno.env.get(name));

const assets = {
  async fetch(file) {
    try {
      const opened = await Deno.open(`${appDir}${file}`, { read: true });
      return new Response(opened.readable);
    } catch {
      return new Response(null, { status: 404 });
    }
  },
};

// Deno answers the browser's upgrade itself and opens its own socket upstream (Deno's WebSocket
// takes headers), relaying text frames both ways until either side closes.
function proxyWebSocket(request, target, headers) {
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
  const server = new WebSocket(target, { protocols, headers: forwarded });
  return new Promise((resolve) => {
    server.onopen = () => {
      const { socket, response } = Deno.upgradeWebSocket(request, { protocol: server.protocol || undefined });
      const pending = [];
      socket.onopen = () => pending.splice(0).forEach((m) => socket.send(m));
      server.onmessage = (e) => (socket.readyState === WebSocket.OPEN ? socket.send(e.data) : pending.push(e.data));
      socket.onmessage = (e) => server.readyState === WebSocket.OPEN && server.send(e.data);
      socket.onclose = () => server.close();
      server.onclose = () => socket.readyState <= WebSocket.OPEN && socket.close();
      resolve(response);
    };
    server.onerror = () => resolve(new Response("the mail server refused the WebSocket", { status: 502 }));
  });
}

const port = Number(Deno.env.get("PORT") ?? 8000);
const hostname = Deno.env.get("HOSTNAME") ?? "127.0.0.1";
Deno.serve({ port, hostname }, (request) => handle(request, { settings, manifest, assets, proxyWebSocket }));
