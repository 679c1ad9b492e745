#!/usr/bin/env python3
"""A misbehaving JMAP server on 127.0.0.1 for the client's error-path tests.

GET /s/<mode>/session returns a valid session whose apiUrl (/s/<mode>/api) and eventSourceUrl
(/s/<mode>/events) misbehave as <mode> says (text after a `~` in <mode> only makes it unique, so each
test has its own counters); GET /s/<mode>/count tells how often the API was hit and
/s/<mode>/aborted whether a client went away mid-request. Every stream is bounded in size and time.
Usage: hostile_server.py --port PORT
"""
import argparse
import base64
import hashlib
import json
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MiB = 1024 * 1024
hits = {}
aborted = {}
session_reads = {}
lock = threading.Lock()


def session(mode):
    return {
        "capabilities": {
            "urn:ietf:params:jmap:core": {"maxSizeUpload": 50 * MiB, "maxConcurrentUpload": 4, "maxSizeRequest": 10 * MiB,
                                          "maxConcurrentRequests": 4, "maxCallsInRequest": 16, "maxObjectsInGet": 500,
                                          "maxObjectsInSet": 500, "collationAlgorithms": []},
            "urn:ietf:params:jmap:mail": {},
        },
        "accounts": {"démo-☕": {"name": "hostile", "isPersonal": True, "isReadOnly": False,
                                "accountCapabilities": {"urn:ietf:params:jmap:mail": {}}}},
        "primaryAccounts": {"urn:ietf:params:jmap:mail": "démo-☕"},
        "username": "hostile", "apiUrl": "/s/%s/api" % mode, "downloadUrl": "/s/%s/download/{blobId}" % mode,
        "uploadUrl": "/s/%s/upload" % mode,
        "eventSourceUrl": "/s/%s/events?types={types}&closeafter={closeafter}&ping={ping}" % mode, "state": "1",
    }


BLOB = bytes((i * 31 + i // 7) % 256 for i in range(300_000))


def session_for(mode):
    s = session(mode)
    if mode.split("~")[0].startswith("blob9404"):
        # RFC 9404: the server states each blob's SHA-256.
        s["capabilities"]["urn:ietf:params:jmap:blob"] = {}
        s["accounts"]["démo-☕"]["accountCapabilities"]["urn:ietf:params:jmap:blob"] = {
            "maxSizeBlobSet": None, "maxDataSources": 64, "supportedTypeNames": ["Email"],
            "supportedDigestAlgorithms": ["sha", "sha-256"]}
    return s


OK_BODY = json.dumps({"methodResponses": [["Core/echo", {"ok": True}, "c0"]], "sessionState": "1"}).encode()
STATE = b'event: state\ndata: {"@type":"StateChange","changed":{"d\xc3\xa9mo-\xe2\x98\x95":{"Email":"s2"}}}\n\n'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def cors(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "retry-after")

    def do_OPTIONS(self):
        self.send_response(204)
        self.cors()
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "authorization, content-type, accept, last-event-id")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def reply(self, status, body, content_type="application/json", headers=()):
        self.send_response(status)
        self.cors()
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def chunked_start(self, content_type):
        self.send_response(200)
        self.cors()
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def route(self):
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) < 3 or parts[0] != "s":
            return None, None
        return parts[1], parts[2]

    def do_GET(self):
        mode, what = self.route()
        if what == "session":
            with lock:
                session_reads[mode] = session_reads.get(mode, 0) + 1
            if mode.split("~")[0] == "huge-session":
                pad = "x" * (2 * MiB)
                body = json.dumps(dict(session(mode), padding=pad)).encode()
            else:
                body = json.dumps(session_for(mode)).encode()
            return self.reply(200, body)
        if what == "count":
            return self.reply(200, json.dumps(hits.get(mode, 0)).encode())
        if what == "session-count":
            return self.reply(200, json.dumps(session_reads.get(mode, 0)).encode())
        if what == "aborted":
            return self.reply(200, json.dumps(aborted.get(mode, False)).encode())
        if what == "events":
            return self.events(mode)
        if what == "download":
            return self.reply(200, BLOB, "application/octet-stream")
        self.reply(404, b"{}")

    def do_POST(self):
        mode, what = self.route()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 16 * MiB))
        if what != "api":
            return self.reply(404, b"{}")
        with lock:
            hits[mode] = hits.get(mode, 0) + 1
            n = hits[mode]
        key, mode = mode, mode.split("~")[0]
        if mode == "oversized":
            self.chunked_start("application/json")
            self.chunk(b'{"methodResponses": [["Core/echo", {"pad": "')
            for _ in range(12):
                self.chunk(b"x" * MiB)
            self.chunk(b'"}, "c0"]], "sessionState": "1"}')
            self.chunk(b"")
        elif mode == "oversized-declared":
            self.send_response(200)
            self.cors()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(64 * MiB))
            self.end_headers()
            self.wfile.write(b"{")
        elif mode == "truncated":
            self.reply(200, OK_BODY[: len(OK_BODY) // 2])
        elif mode == "html":
            self.reply(200, b"<html><body>Welcome to our portal</body></html>", "text/html")
        elif mode == "closes":
            self.send_response(200)
            self.cors()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "5000")
            self.end_headers()
            self.wfile.write(OK_BODY[:40])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        elif mode == "ratelimit":
            if n == 1:
                self.reply(429, b'{"type": "about:blank", "status": 429}', headers=[("Retry-After", "1")])
            else:
                self.reply(200, OK_BODY)
        elif mode == "unavailable":
            self.reply(503, b"down for maintenance", "text/plain", headers=[("Retry-After", "120")])
        elif mode == "notjson":
            self.reply(400, json.dumps({"type": "urn:ietf:params:jmap:error:notJSON", "status": 400,
                                        "detail": "The content was not JSON"}).encode(), "application/problem+json")
        elif mode == "limit":
            self.reply(400, json.dumps({"type": "urn:ietf:params:jmap:error:limit", "status": 400,
                                        "limit": "maxSizeRequest", "detail": "too big"}).encode(), "application/problem+json")
        elif mode.startswith("blob9404"):
            stated = BLOB if mode == "blob9404" else BLOB[:-1] + b"!"
            digest = base64.b64encode(hashlib.sha256(stated).digest()).decode()
            answers = []
            for name, args, call_id in json.loads(body)["methodCalls"]:
                if name == "Blob/get":
                    answers.append([name, {"accountId": args["accountId"], "notFound": [], "list": [
                        {"id": i, "digest:sha-256": digest, "size": len(BLOB)} for i in args["ids"]]}, call_id])
                else:
                    answers.append(["error", {"type": "unknownMethod"}, call_id])
            self.reply(200, json.dumps({"methodResponses": answers, "sessionState": "1"}).encode())
        elif mode == "stale-session":
            # The session changed on the server: responses carry a new sessionState.
            self.reply(200, OK_BODY.replace(b'"sessionState": "1"', b'"sessionState": "2"'))
        elif mode == "slow":
            # Holds the answer; notices when the client hangs up (a dropped call must abort its fetch).
            deadline = time.time() + 10
            while time.time() < deadline:
                readable, _, _ = select.select([self.connection], [], [], 0.1)
                if readable and self.connection.recv(1, socket.MSG_PEEK) == b"":
                    aborted[key] = True
                    self.close_connection = True
                    return
            self.reply(200, OK_BODY)
        else:
            self.reply(200, OK_BODY)

    def events(self, mode):
        mode = mode.split("~")[0]
        self.chunked_start("text/event-stream")
        try:
            if mode == "sse-split-utf8":
                # A valid event whose multi-byte characters are cut between chunks.
                cut = STATE.index(b"\xc3") + 1
                self.chunk(STATE[:cut])
                time.sleep(0.05)
                self.chunk(STATE[cut:cut + 5])
                time.sleep(0.05)
                self.chunk(STATE[cut + 5:])
                time.sleep(3)
            elif mode == "sse-invalid-utf8":
                self.chunk(b"data: caf\xc3")
                time.sleep(0.05)
                self.chunk(b"\x28 broken\n\n")
                time.sleep(3)
            elif mode == "sse-endless":
                for _ in range(64):
                    self.chunk(b"data: " + b"a" * 128 * 1024)
            self.chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    with ThreadingHTTPServer(("127.0.0.1", args.port), Handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
