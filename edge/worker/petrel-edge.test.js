// petrel-edge's rules in isolation (Deno's test runner: `deno test edge/worker/`); the journeys
// (tests/e2e/edge_journeys.py) run the whole worker in workerd and Deno.
import {
  basicChallengeOnly,
  chooseEncoding,
  handle,
  isJmapPath,
  moveTokenToHeader,
  rewriteSessionUrls,
  settingsFrom,
  upgradeHeaders,
  upstreamPath,
} from "./petrel-edge.js";

function assertEquals(actual, expected, what) {
  const [a, e] = [JSON.stringify(actual), JSON.stringify(expected)];
  if (a !== e) throw new Error(`${what ?? "value"}: got ${a}, expected ${e}`);
}

Deno.test("JMAP paths are the gateway's", () => {
  for (const path of ["/.well-known/jmap", "/jmap", "/jmap/", "/jmap/download/a/b/c"]) assertEquals(isJmapPath(path), true, path);
  for (const path of ["/", "/jmapx", "/.well-known/jmapx", "/index.html"]) assertEquals(isJmapPath(path), false, path);
});

Deno.test("the encoding follows Accept-Encoding's q-values", () => {
  assertEquals(chooseEncoding("gzip, br", ["br", "gzip"]), "br");
  assertEquals(chooseEncoding("br;q=0.5, gzip", ["br", "gzip"]), "gzip");
  assertEquals(chooseEncoding("identity", ["br", "gzip"]), null);
  assertEquals(chooseEncoding("*", ["br", "gzip"]), "br");
  assertEquals(chooseEncoding("br;q=0", ["br", "gzip"]), null);
  assertEquals(chooseEncoding(null, ["br"]), null);
});

Deno.test("a WebSocket's access_token goes into Authorization, never upstream in the URL", () => {
  const target = new URL("http://mail/jmap/ws/?a=1&access_token=t%2Bk%3D&b=2");
  const headers = new Headers();
  moveTokenToHeader(target, headers);
  assertEquals(headers.get("authorization"), "Bearer t+k=");
  assertEquals(target.search, "?a=1&b=2");
  const explicit = new Headers({ authorization: "Basic abc" });
  const other = new URL("http://mail/jmap/ws/?access_token=x");
  moveTokenToHeader(other, explicit);
  assertEquals(explicit.get("authorization"), "Basic abc", "explicit credentials win");
  assertEquals(other.search, "");
});

Deno.test("session URLs naming the server become paths here, others stay", () => {
  const upstream = new URL("http://127.0.0.1:5000");
  const session = {
    apiUrl: "http://127.0.0.1:5000/jmap/",
    downloadUrl: "http://127.0.0.1:5000/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
    uploadUrl: "http://127.0.0.1:50001/jmap/upload/{accountId}/",
    eventSourceUrl: "https://push.example.com/jmap/eventsource/?types={types}",
    capabilities: { "urn:ietf:params:jmap:websocket": { url: "ws://127.0.0.1:5000/jmap/ws" } },
  };
  assertEquals(rewriteSessionUrls(session, upstream), true);
  assertEquals(session.apiUrl, "/jmap/");
  assertEquals(session.downloadUrl, "/jmap/download/{accountId}/{blobId}/{name}?accept={type}");
  assertEquals(session.uploadUrl, "http://127.0.0.1:50001/jmap/upload/{accountId}/", "another port is another server");
  assertEquals(session.eventSourceUrl, "https://push.example.com/jmap/eventsource/?types={types}");
  assertEquals(session.capabilities["urn:ietf:params:jmap:websocket"].url, "/jmap/ws");
  assertEquals(rewriteSessionUrls({ apiUrl: "/jmap/" }, upstream), false, "Cyrus's paths stay");
  assertEquals(upstreamPath("http://127.0.0.1:5000?x", upstream), "/?x");
});

Deno.test("a WebSocket 401 offers Basic alone, when it has Basic", () => {
  const both = new Response(null, { status: 401, headers: [["www-authenticate", 'Bearer realm="S"'], ["www-authenticate", 'Basic realm="S", charset="UTF-8"']] });
  assertEquals(basicChallengeOnly(both).headers.get("www-authenticate"), 'Basic realm="S", charset="UTF-8"');
  const bearer = new Response(null, { status: 401, headers: { "www-authenticate": 'Bearer realm="S"' } });
  assertEquals(basicChallengeOnly(bearer).headers.get("www-authenticate"), 'Bearer realm="S"');
});

Deno.test("a 101's server-only headers stay behind", () => {
  const out = upgradeHeaders(new Headers({ "alt-svc": "h2c", "sec-websocket-protocol": "jmap", "access-control-allow-origin": "*", upgrade: "websocket" }));
  assertEquals([...out.keys()], ["sec-websocket-protocol"]);
});

Deno.test("settings are checked where they are read", () => {
  assertEquals(settingsFrom(() => undefined).jmapUpstream, null);
  assertEquals(settingsFrom((n) => (n === "PETREL_CORS_ORIGINS" ? "https://a, https://b" : undefined)).corsOrigins, ["https://a", "https://b"]);
  let refused = null;
  try {
    settingsFrom((n) => (n === "PETREL_JMAP_UPSTREAM" ? "http://mail/jmap" : undefined));
  } catch (error) {
    refused = error.message;
  }
  assertEquals(refused?.includes("give only scheme, host and port"), true, refused);
});

const manifest = {
  files: {
    "/index.html": { headers: { "content-type": "text/html; charset=utf-8" }, encodings: { identity: { file: "/index.html", length: 4, etag: '"i"' } } },
  },
};
const assets = { fetch: () => new Response("page") };
const runtime = { settings: settingsFrom(() => undefined), manifest, assets, proxyWebSocket: () => new Response(null, { status: 500 }) };

Deno.test("paths that leave the app, and other methods, are refused", async () => {
  assertEquals((await handle(new Request("http://edge/%2e%2e%5csecret"), runtime)).status, 400);
  assertEquals((await handle(new Request("http://edge/a%00b"), runtime)).status, 400);
  assertEquals((await handle(new Request("http://edge/x%zz"), runtime)).status, 400);
  assertEquals((await handle(new Request("http://edge/", { method: "POST", body: "x" }), runtime)).status, 405);
  assertEquals((await handle(new Request("http://edge/missing.js"), runtime)).status, 404);
  for (const path of ["/settings/filters", "/mail/inbox/", "/a/%2e%2e/%2e%2e/etc/passwd"]) {
    const route = await handle(new Request(`http://edge${path}`), runtime);
    assertEquals([route.status, await route.text()], [200, "page"], `${path}: a client-side route gets the page`);
  }
});

Deno.test("a file changed after the manifest is not served under its old length", async () => {
  const stale = { ...runtime, assets: { fetch: () => new Response("longer page", { headers: { "content-length": "11" } }) } };
  const answer = await handle(new Request("http://edge/"), stale);
  assertEquals(answer.status, 500);
  assertEquals((await answer.text()).includes("scripts/build-edge"), true);
});

Deno.test("a WebSocket from another site is refused", async () => {
  const upgrade = (origin) =>
    new Request("http://edge/jmap/ws/", { headers: { upgrade: "websocket", origin } });
  const withServer = { ...runtime, settings: settingsFrom((n) => (n === "PETREL_JMAP_UPSTREAM" ? "http://mail" : undefined)), proxyWebSocket: () => new Response("relayed") };
  assertEquals((await handle(upgrade("http://evil.example"), withServer)).status, 403);
  assertEquals(await (await handle(upgrade("http://edge"), withServer)).text(), "relayed");
});

Deno.test("without a JMAP server the proxy says so", async () => {
  const answer = await handle(new Request("http://edge/jmap/"), runtime);
  assertEquals(answer.status, 502);
  assertEquals((await answer.text()).includes("PETREL_JMAP_UPSTREAM"), true);
});
