// petrel-edge: petrel-gateway's JMAP half as an edge worker, the same code in workerd (Cloudflare
// Workers) and Deno (Deno Deploy); workerd.js and deno.js adapt it to each runtime.
//
// It serves the app's precompressed files with the headers petrel-gateway sends (the build writes
// them into a manifest: gateway/src/edge_manifest.rs, one place for those rules), and proxies
// /.well-known/jmap and /jmap/ to the JMAP server: streaming both ways, WebSocket upgrades with a
// Bearer token moved from the query into the Authorization header, CORS preflights answered here,
// Location headers and absolute session URLs that name the server rewritten to paths on this origin.
// RustMailer's gRPC-web and its event hooks stay in petrel-gateway (README: "Petrel at the edge").

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
  "transfer-encoding", "upgrade"];
const SESSION_PATHS = new Set(["/.well-known/jmap", "/jmap", "/jmap/", "/jmap/session"]);
const MAX_SESSION_BYTES = 1 << 20;
const STREAM_OPENED = ": opened by petrel-edge\n\n";

/** The settings, from the runtime's environment bindings (the gateway's variable names). */
export function settingsFrom(get) {
  const upstream = get("PETREL_JMAP_UPSTREAM");
  let jmapUpstream = null;
  if (upstream) {
    jmapUpstream = new URL(upstream);
    if (!["http:", "https:"].includes(jmapUpstream.protocol) || jmapUpstream.pathname !== "/" || jmapUpstream.search) {
      throw new Error(`PETREL_JMAP_UPSTREAM=${upstream}: give only scheme, host and port, e.g. https://mail.example.com`);
    }
  }
  const corsOrigins = (get("PETREL_CORS_ORIGINS") || "").split(",").map((o) => o.trim()).filter(Boolean);
  return { jmapUpstream, corsOrigins };
}

export function isJmapPath(path) {
  return path === "/.well-known/jmap" || path === "/jmap" || path.startsWith("/jmap/");
}

function text(status, body) {
  return new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}

/**
 * Answers one request. `runtime` gives `assets.fetch(path)` (the app's files), `manifest` (the
 * build's), `settings` (settingsFrom), `fetchUpstream(target, init)` (a fetch that leaves the
 * server's encoding alone, or asks for none) and `proxyWebSocket(request, target, headers)`.
 */
export async function handle(request, runtime) {
  const url = new URL(request.url);
  if (isJmapPath(url.pathname)) return proxyJmap(request, url, runtime);
  return serveFile(request, url, runtime);
}

// ---- the app's files ----

function decodePath(path) {
  let decoded;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const parts = decoded.split("/");
  if (parts.some((part) => part === "..")) return null;
  return parts.filter((part) => part !== ".").join("/");
}

/** The highest q-value among `available` (best first) wins; null means identity. */
export function chooseEncoding(acceptEncoding, available) {
  const weightOf = (coding) => {
    let wildcard = null;
    for (const item of (acceptEncoding || "").split(",")) {
      const [name, ...params] = item.split(";").map((p) => p.trim());
      const q = params.map((p) => /^q=([0-9.]+)$/i.exec(p)).find(Boolean);
      const weight = q ? Number.parseFloat(q[1]) : 1;
      if (name.toLowerCase() === coding) return weight;
      if (name === "*") wildcard = weight;
    }
    return wildcard ?? 0;
  };
  let best = null;
  for (const coding of available) {
    const q = weightOf(coding);
    if (q > 0 && (best === null || q > best.q)) best = { coding, q };
  }
  return best?.coding ?? null;
}

async function serveFile(request, url, { assets, manifest }) {
  if (request.method !== "GET" && request.method !== "HEAD") return text(405, "only GET and HEAD are served here");
  let path = decodePath(url.pathname);
  if (path === null) return text(400, "bad path");
  // As the gateway decides: by the last segment the browser asked for (`/mail/inbox/` is a route).
  const lastSegment = path.split("/").filter(Boolean).pop() ?? "";
  if (path.endsWith("/")) path += "index.html";
  let entry = manifest.files[path];
  if (!entry && !lastSegment.includes(".")) {
    // Client-side routes: the app itself decides what to show.
    entry = manifest.files["/index.html"];
  }
  if (!entry) return text(404, "not found");
  const copies = Object.keys(entry.encodings).filter((c) => c !== "identity");
  const coding = chooseEncoding(request.headers.get("accept-encoding"), copies);
  const variant = entry.encodings[coding ?? "identity"];
  const headers = new Headers(entry.headers);
  if (coding) headers.set("content-encoding", coding);
  if (copies.length) headers.set("vary", "accept-encoding");
  headers.set("etag", variant.etag);
  const tags = (request.headers.get("if-none-match") || "").split(",").map((t) => t.trim().replace(/^W\//, ""));
  if (tags.includes(variant.etag) || tags.includes("*")) {
    return new Response(null, { status: 304, headers });
  }
  const stored = await assets.fetch(variant.file);
  if (!stored.ok) return text(404, "not found");
  const storedLength = stored.headers.get("content-length");
  if (storedLength !== null && Number(storedLength) !== variant.length) {
    // dist/ was rebuilt after the manifest: its lengths and validators no longer hold.
    await stored.body?.cancel();
    return text(500, `${variant.file} changed after petrel-edge's manifest was written: run scripts/build-edge`);
  }
  headers.set("content-length", String(variant.length));
  // The bytes are already encoded: workerd must send them as they are (Deno ignores the option).
  return new Response(request.method === "HEAD" ? null : stored.body, { status: 200, headers, encodeBody: "manual" });
}

// ---- the JMAP proxy ----

function allowedOrigin(request, settings) {
  const origin = request.headers.get("origin");
  if (!origin) return null;
  return settings.corsOrigins.some((o) => o === "*" || o.replace(/\/$/, "") === origin) ? origin : null;
}

function addCors(headers, origin) {
  headers.set("access-control-allow-origin", origin);
  headers.append("vary", "Origin");
}

function stripHopByHop(headers) {
  const listed = (headers.get("connection") || "").split(",").map((n) => n.trim()).filter(Boolean);
  for (const name of [...listed, ...HOP_BY_HOP]) headers.delete(name);
}

/** Browsers cannot put headers on a WebSocket: a Bearer token comes as `access_token`. */
export function moveTokenToHeader(target, headers) {
  const token = target.searchParams.get("access_token");
  if (token === null) return;
  target.searchParams.delete("access_token");
  if (!headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
}

/** The path (with query) of `value` when it names the upstream, else null. Templates keep braces. */
export function upstreamPath(value, upstream) {
  const scheme = ["http://", "https://", "ws://", "wss://"].find((s) => value.startsWith(s));
  if (!scheme) return null;
  const rest = value.slice(scheme.length);
  if (!rest.startsWith(upstream.host)) return null;
  const after = rest.slice(upstream.host.length);
  if (after === "") return "/";
  if (after.startsWith("/")) return after;
  if (after.startsWith("?")) return `/${after}`;
  return null; // another host that merely starts alike (127.0.0.1:50001 for :5000)
}

/** Session URLs naming the upstream become paths here. Returns whether anything changed. */
export function rewriteSessionUrls(session, upstream) {
  let changed = false;
  const rewrite = (holder, key) => {
    const value = holder?.[key];
    if (typeof value !== "string") return;
    const path = upstreamPath(value, upstream);
    if (path !== null) {
      holder[key] = path;
      changed = true;
    }
  };
  for (const key of ["apiUrl", "downloadUrl", "uploadUrl", "eventSourceUrl"]) rewrite(session, key);
  rewrite(session?.capabilities?.["urn:ietf:params:jmap:websocket"], "url");
  return changed;
}

/** What of the server's 101 answer goes to the browser: the subprotocol and its own headers, not
 * the server's Alt-Svc or CORS headers. */
export function upgradeHeaders(headers) {
  const out = new Headers(headers);
  stripHopByHop(out);
  for (const name of [...out.keys()]) if (name.startsWith("access-control-")) out.delete(name);
  // The runtime answers the browser's handshake itself (its own accept key and extensions).
  for (const name of ["alt-svc", "sec-websocket-accept", "sec-websocket-extensions", "content-length"]) out.delete(name);
  return out;
}

/**
 * A browser sends the credentials of a WebSocket URL (user:password@host) only when a 401 asks
 * for Basic, and Chromium does not when the server names another scheme first (Stalwart: Bearer,
 * then Basic). The browser is offered the Basic challenge alone.
 */
export function basicChallengeOnly(answer) {
  const headers = new Headers(answer.headers);
  const challenges = (answer.headers.get("www-authenticate") || "").split(/,\s*(?=[A-Za-z]+\s)/);
  const basic = challenges.filter((c) => /^basic\b/i.test(c.trim()));
  if (!basic.length) return answer;
  headers.set("www-authenticate", basic.join(", "));
  return new Response(answer.body, { status: 401, headers });
}

function preflight(request, origin) {
  const headers = new Headers();
  if (origin) {
    addCors(headers, origin);
    headers.set("access-control-allow-methods", "GET, POST, OPTIONS");
    const asked = request.headers.get("access-control-request-headers");
    if (asked) headers.set("access-control-allow-headers", asked);
    headers.set("access-control-max-age", "600");
  }
  return new Response(null, { status: 204, headers });
}

async function proxyJmap(request, url, { settings, proxyWebSocket, fetchUpstream }) {
  const origin = allowedOrigin(request, settings);
  // Preflights are answered here: some servers (Cyrus before 3.13) demand auth on OPTIONS.
  if (request.method === "OPTIONS" && request.headers.has("access-control-request-method")) {
    return preflight(request, origin);
  }
  const upstream = settings.jmapUpstream;
  if (!upstream) return text(502, "this edge worker has no JMAP server configured (PETREL_JMAP_UPSTREAM)");
  const target = new URL(url.pathname + url.search, upstream);
  const headers = new Headers(request.headers);
  const websocket = (headers.get("upgrade") || "").toLowerCase() === "websocket";
  stripHopByHop(headers);
  headers.delete("origin");
  headers.delete("host");
  headers.set("x-forwarded-host", url.host);
  headers.set("x-forwarded-proto", url.protocol.replace(":", ""));
  if (websocket) {
    // Another site's page must not open a socket with credentials the browser keeps for this one.
    const from = request.headers.get("origin");
    if (from && from !== url.origin && !origin) return text(403, `WebSocket from ${from} refused: not an allowed origin`);
    try {
      moveTokenToHeader(target, headers);
    } catch {
      return text(400, "the access_token cannot be sent as a header");
    }
    try {
      return await proxyWebSocket(request, target, headers);
    } catch (error) {
      return text(502, `the mail server at ${upstream.origin} refused the WebSocket (${error?.message ?? error})`);
    }
  }
  const sessionRequest = request.method === "GET" && SESSION_PATHS.has(url.pathname);
  if (sessionRequest || (headers.get("accept") || "").includes("text/event-stream")) {
    // Compression holds events back, and Cyrus 3.6 labels its event stream brotli while sending
    // it plain; a session comes plain so its URLs can be rewritten.
    headers.set("accept-encoding", "identity");
  }
  let answer;
  try {
    const hasBody = !["GET", "HEAD"].includes(request.method);
    // As the server sent it: encoded bodies pass through encoded (fetchUpstream: see workerd.js, deno.js).
    answer = await fetchUpstream(target, {
      method: request.method,
      headers,
      body: hasBody ? request.body : undefined,
      redirect: "manual",
      ...(hasBody ? { duplex: "half" } : {}),
    });
  } catch (error) {
    return text(502, `the mail server at ${upstream.origin} is not reachable (${error?.message ?? error})`);
  }
  const out = new Headers(answer.headers);
  stripHopByHop(out);
  for (const name of [...out.keys()]) if (name.startsWith("access-control-")) out.delete(name);
  out.delete("alt-svc");
  const location = out.get("location");
  if (location) {
    try {
      const named = new URL(location);
      if (named.host === upstream.host) out.set("location", named.pathname + named.search);
    } catch {
      // A relative Location stays on this origin as it is.
    }
  }
  if (origin) {
    addCors(out, origin);
    out.set("access-control-expose-headers", "retry-after, location");
  }
  if (sessionRequest && answer.status === 200) return sessionResponse(answer, out, upstream);
  const init = { status: answer.status, statusText: answer.statusText, headers: out, encodeBody: "manual" };
  if (answer.status === 200 && (out.get("content-type") || "").startsWith("text/event-stream") && answer.body) {
    // Firefox resolves fetch() only once a body byte arrives, and servers ping only after their
    // interval: a comment now tells every browser the stream is open. SSE readers skip comments.
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    writer.write(new TextEncoder().encode(STREAM_OPENED)).then(() => {
      writer.releaseLock();
      return answer.body.pipeTo(writable);
    }).catch(() => {});
    return new Response(readable, init);
  }
  // Passed on as it arrives: no buffering, so downloads and streams flow.
  return new Response(answer.body, init);
}

/** The body, up to `limit` bytes; null when it is larger. */
async function readLimited(body, limit) {
  const chunks = [];
  let length = 0;
  for await (const chunk of body) {
    length += chunk.length;
    if (length > limit) {
      return null;
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

async function sessionResponse(answer, headers, upstream) {
  if ((answer.headers.get("content-encoding") || "identity") !== "identity") {
    // Asked for plain (identity); a server that compresses anyway is passed on as it is.
    return new Response(answer.body, { status: 200, headers, encodeBody: "manual" });
  }
  let bytes;
  try {
    bytes = answer.body ? await readLimited(answer.body, MAX_SESSION_BYTES) : new Uint8Array();
  } catch (error) {
    return text(502, `the mail server's session was cut off (${error?.message ?? error})`);
  }
  if (bytes === null) return text(502, "the mail server's session is larger than 1 MiB");
  let body = bytes;
  try {
    const session = JSON.parse(new TextDecoder().decode(bytes));
    if (rewriteSessionUrls(session, upstream)) {
      body = new TextEncoder().encode(JSON.stringify(session));
      headers.delete("etag");
    }
  } catch {
    // Not JSON (an error page, say): the app reports it as it is.
  }
  headers.delete("content-length");
  headers.delete("content-encoding");
  return new Response(body, { status: 200, headers });
}
