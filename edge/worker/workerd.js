// petrel-edge in workerd (Cloudflare Workers); scripts/build-edge copies it into dist-edge/worker/
// beside the manifest it imports. Bindings: ASSETS (the app's files: a disk service
// locally, Workers Static Assets on Cloudflare), PETREL_JMAP_UPSTREAM and PETREL_CORS_ORIGINS.
import manifest from "./petrel-edge-manifest.json";
import { basicChallengeOnly, handle, settingsFrom, upgradeHeaders } from "./petrel-edge.js";

// A WebSocket upgrade goes upstream as a fetch with the Upgrade header; answering with its 101
// (which carries the upstream socket) hands that socket to the browser as it is.
// The server's body as it was sent (a gzip stays gzip): workerd would decode it otherwise, and the
// browser would get plain bytes labelled gzip.
function fetchUpstream(target, init) {
  return fetch(target, { ...init, encodeResponseBody: "manual" });
}

async function proxyWebSocket(request, target, headers) {
  headers.set("upgrade", "websocket");
  const answer = await fetch(target, { headers });
  if (answer.status === 401) return basicChallengeOnly(answer);
  if (answer.status !== 101 || !answer.webSocket) return answer;
  return new Response(null, { status: 101, webSocket: answer.webSocket, headers: upgradeHeaders(answer.headers) });
}

let settings;

export default {
  async fetch(request, env) {
    settings ??= settingsFrom((name) => env[name]);
    const assets = { fetch: (file) => env.ASSETS.fetch(new URL(file, "http://assets")) };
    return handle(request, { settings, manifest, assets, fetchUpstream, proxyWebSocket });
  },
};
