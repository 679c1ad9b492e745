#!/usr/bin/env python3
"""The main journeys through petrel-edge (edge/worker) in workerd, or in Deno with
`edge_journeys.py deno`, in Chromium: the app's files
served with petrel-gateway's headers, the JMAP proxy (session URLs, redirects, CORS, the event
stream), then signing in, reading, searching, sending with an attachment and new mail by push,
all through the edge worker instead of the gateway.

Env: as tests/e2e/ui_journeys.py (PETREL_TEST_GATEWAY is the gateway the headers are compared
with; the journeys themselves go to petrel-edge), plus JMAP_URL (the server petrel-edge proxies).
"""
import base64
import glob
import gzip
import http.client
import json
import os
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "edge"))
from petrel_edge import PetrelEdge  # noqa: E402
from webdriver import run_journeys_in_one_browser  # noqa: E402
from cdp import Cdp  # noqa: E402

GATEWAY = os.environ["PETREL_TEST_GATEWAY"]
JMAP_URL = os.environ["JMAP_URL"]
USER = os.environ["PETREL_TEST_USER"]
PASSWORD = os.environ["PETREL_TEST_PASSWORD"]
ARTIFACTS = os.environ.get("PETREL_E2E_ARTIFACTS", "target/e2e/edge")
ALLOWED_ORIGIN = "http://elsewhere.example"
# The headers petrel-gateway's rules set on the app's files; petrel-edge must send the same.
FILE_HEADERS = ["content-type", "cache-control", "content-security-policy", "content-encoding", "vary",
                "x-content-type-options", "referrer-policy"]


def request(base, path, method="GET", headers=None, body=None):
    """One exchange, nothing decoded or followed: (status, lowercased headers, raw body)."""
    parsed = urllib.parse.urlsplit(base)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def basic():
    return "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()


def decoded(body, coding):
    """`body` as its Content-Encoding says it was sent."""
    if coding in (None, "identity"):
        return body
    if coding == "gzip":
        return gzip.decompress(body)
    if coding == "br":
        script = "process.stdout.write(require('zlib').brotliDecompressSync(require('fs').readFileSync(0)))"
        return subprocess.run(["node", "-e", script], input=body, capture_output=True, check=True).stdout
    raise AssertionError("an encoding the browser did not ask for: %s" % coding)


def journey_files(edge):
    """Every kind of file, in each encoding: the same status, headers and bytes as the gateway."""
    dist = os.path.join(ROOT, "dist")
    picks = ["/", "/index.html", "/a/client/route", "/missing.js"]
    for pattern in ["*.wasm", "*.js", "*.css", "*.webmanifest", "sw.js"]:
        found = sorted(glob.glob(os.path.join(dist, "**", pattern), recursive=True))
        picks += ["/" + os.path.relpath(found[0], dist)] if found else []
    compared = 0
    for path in picks:
        for accept in ["br, gzip", "gzip", "identity"]:
            want = request(GATEWAY, path, headers={"accept-encoding": accept})
            got = request(edge, path, headers={"accept-encoding": accept})
            assert got[0] == want[0], "%s (%s): status %s, the gateway %s" % (path, accept, got[0], want[0])
            if want[0] != 200:
                continue
            for name in FILE_HEADERS:
                assert got[1].get(name) == want[1].get(name), \
                    "%s (%s): %s is %r, the gateway sends %r" % (path, accept, name, got[1].get(name), want[1].get(name))
            assert got[2] == want[2], "%s (%s): other bytes than the gateway's" % (path, accept)
            compared += 1
    status, headers, _ = request(edge, "/index.html", headers={"accept-encoding": "br"})
    again = request(edge, "/index.html", headers={"accept-encoding": "br", "if-none-match": headers["etag"]})
    assert again[0] == 304 and not again[2], "a fresh copy is not sent again (%s)" % again[0]
    assert "script-src 'self'" in headers["content-security-policy"]
    return "%d answers equal to the gateway's" % compared


def journey_jmap_proxy(edge):
    upstream = urllib.parse.urlsplit(JMAP_URL).netloc
    status, headers, body = request(edge, "/.well-known/jmap", headers={"authorization": basic()})
    hops = 0
    while status in (301, 302, 307, 308):
        location = headers["location"]
        assert upstream not in location, "a redirect names the server itself: %s" % location
        status, headers, body = request(edge, location, headers={"authorization": basic()})
        hops += 1
    assert status == 200, "the session: %s %s" % (status, body[:200])
    session = json.loads(body)
    for key in ["apiUrl", "downloadUrl", "uploadUrl", "eventSourceUrl"]:
        assert upstream not in (session.get(key) or ""), "%s names the server itself: %s" % (key, session[key])
    ws = session["capabilities"].get("urn:ietf:params:jmap:websocket", {}).get("url", "")
    assert upstream not in ws, "the WebSocket URL names the server itself: %s" % ws
    # Preflights are answered here, for allowed origins only.
    ask = {"origin": ALLOWED_ORIGIN, "access-control-request-method": "POST",
           "access-control-request-headers": "authorization, content-type"}
    status, headers, _ = request(edge, "/jmap/", "OPTIONS", ask)
    assert status == 204 and headers.get("access-control-allow-origin") == ALLOWED_ORIGIN, (status, headers)
    assert "authorization" in headers.get("access-control-allow-headers", "")
    status, headers, _ = request(edge, "/jmap/", "OPTIONS", {**ask, "origin": "http://other.example"})
    assert "access-control-allow-origin" not in headers, "another origin was allowed: %s" % headers
    # An API answer the server compresses arrives compressed as the header says (the runtimes'
    # fetch would decode it under the server's Content-Encoding otherwise).
    call = json.dumps({"using": ["urn:ietf:params:jmap:core"], "methodCalls": [["Core/echo", {"petrel": "edge"}, "0"]]})
    for accept in ["gzip", "br", "identity"]:
        status, headers, body = request(edge, urllib.parse.urlsplit(urllib.parse.urljoin(edge + "/", session["apiUrl"])).path,
                                        "POST", {"authorization": basic(), "content-type": "application/json",
                                                 "accept-encoding": accept}, call.encode())
        assert status == 200, (status, body[:200])
        answer = json.loads(decoded(body, headers.get("content-encoding")))
        assert answer["methodResponses"][0][1] == {"petrel": "edge"}, answer
    # The event stream opens at once, plain, with the edge's comment first.
    url = session["eventSourceUrl"].replace("{types}", "*").replace("{closeafter}", "no").replace("{ping}", "5")
    parsed = urllib.parse.urlsplit(urllib.parse.urljoin(edge + "/", url))
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        connection.request("GET", parsed.path + ("?" + parsed.query if parsed.query else ""),
                           headers={"authorization": basic(), "accept": "text/event-stream",
                                    "accept-encoding": "gzip, br"})
        response = connection.getresponse()
        assert response.status == 200, response.status
        assert response.getheader("content-encoding") in (None, "identity"), response.getheader("content-encoding")
        first = response.readline()
        assert first.startswith(b": opened by petrel-edge"), first
    finally:
        connection.close()
    return "session rewritten (%d redirect(s) kept here), CORS, event stream" % hops


class Push:
    """What Chromium's network saw of the app's WebSocket (through DevTools)."""

    def __init__(self, d):
        self.cdp = Cdp(d.debugger_address)
        self.session = self.cdp.page_session()
        self.cdp.send("Network.enable", session=self.session)
        self.socket = None

    def opened(self, edge):
        # The app's URL carries Basic credentials (user:password@host): compare the host only.
        here = urllib.parse.urlsplit(edge).netloc
        created = self.cdp.wait_event("Network.webSocketCreated",
                                      lambda p: urllib.parse.urlsplit(p["url"]).netloc.rsplit("@", 1)[-1] == here, 60)
        self.socket = created["requestId"]
        answer = self.cdp.wait_event("Network.webSocketHandshakeResponseReceived",
                                     lambda p: p["requestId"] == self.socket, 30)
        assert answer["response"]["status"] == 101, answer["response"]
        headers = {k.lower(): v for k, v in answer["response"]["headers"].items()}
        assert headers.get("sec-websocket-protocol") == "jmap", headers
        assert "alt-svc" not in headers, "the server's Alt-Svc passed through"
        return urllib.parse.urlsplit(created["url"]).path

    def forget_frames(self):
        self.cdp.send("Network.enable", session=self.session)  # reads what came meanwhile
        self.cdp.events = [e for e in self.cdp.events if e["method"] != "Network.webSocketFrameReceived"]

    def state_change(self):
        return self.cdp.wait_event("Network.webSocketFrameReceived",
                                   lambda p: p["requestId"] == self.socket and "StateChange" in p["response"]["payloadData"], 60)


def main():
    if os.environ.get("PETREL_BROWSER", "chromium") != "chromium":
        sys.exit("the edge journeys watch the app's WebSocket through DevTools: run them in chromium")
    os.makedirs(ARTIFACTS, exist_ok=True)
    runtime = sys.argv[1] if len(sys.argv) > 1 else "workerd"
    edge = PetrelEdge(JMAP_URL, cors_origins=ALLOWED_ORIGIN, runtime=runtime)
    try:
        # From here the UI journeys' helpers (signing in, seeding) go through petrel-edge.
        os.environ["PETREL_TEST_GATEWAY"] = edge.url
        import ui_journeys as ui
        seed = ui.Seeder()
        subject, _ = ui.seed_daily(seed)
        push = {}

        def sign_in(d):
            push["watch"] = Push(d)
            ui.sign_in(d)
            ui.shot(d, "edge-%s-inbox.png" % runtime)
            return "WebSocket %s answered 101" % push["watch"].opened(edge.url)

        def new_mail(d):
            watch = push["watch"]
            watch.forget_frames()
            news = "%s news by push" % ui.TOKEN
            seed.put(ui.message("Dana Wu <dana@example.com>", USER, news, ui.when(0), "Fresh.", ui.TOKEN + "-edge-news"),
                     seed.roles["inbox"])
            watch.state_change()
            # Clicked from the page's own script: a folder pane re-rendered by the push that just
            # came cannot leave WebDriver a stale handle.
            d.wait_for("the Inbox opened", lambda: d.run(
                "const b = [...document.querySelectorAll('.mailbox-button')]"
                ".find(b => b.innerText.split('\\n')[0].trim() === 'Inbox'); if (b) b.click(); return !!b"), 30)
            ui.row(d, news)
            ui.shot(d, "edge-%s-push.png" % runtime)

        journeys = [
            ("the app's files as petrel-gateway serves them", lambda d: journey_files(edge.url)),
            ("JMAP through petrel-edge: session, redirects, CORS, event stream", lambda d: journey_jmap_proxy(edge.url)),
            ("sign in through petrel-edge", sign_in),
            ("read a conversation", lambda d: ui.journey_read_thread(d, seed, subject)),
            ("search", ui.journey_search),
            ("send with an attachment", ui.journey_compose_with_attachment),
            ("new mail arrives by push", new_mail),
        ]
        run_journeys_in_one_browser(journeys, "edge (%s)" % runtime, ARTIFACTS, "edge-" + runtime,
                                    first="sign in through petrel-edge")
    except SystemExit:
        print("petrel-edge (%s) said:\n%s" % (runtime, edge.said()))
        raise
    finally:
        edge.stop()


if __name__ == "__main__":
    main()
