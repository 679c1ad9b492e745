"""A small Chrome DevTools Protocol client (stdlib only: a WebSocket client of its own) for what
WebDriver cannot reach: the browser's service workers (stop them, fire a Background Sync event,
read their registrations). Connects to the browser chromedriver started (its debuggerAddress)."""
import base64
import json
import os
import socket
import struct
import time
import urllib.request


class CdpError(Exception):
    pass


class Cdp:
    def __init__(self, debugger_address, timeout=30):
        host, port = debugger_address.rsplit(":", 1)
        host = "127.0.0.1" if host == "localhost" else host
        with urllib.request.urlopen("http://%s:%s/json/version" % (host, port), timeout=timeout) as r:
            url = json.load(r)["webSocketDebuggerUrl"]
        path = url.split(port, 1)[1]
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise CdpError("the browser closed the DevTools connection during the handshake")
            head += chunk
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise CdpError("DevTools refused the WebSocket: %r" % head[:200])
        self.next_id = 0
        self.events = []

    def _read_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise CdpError("the DevTools connection closed")
            data += chunk
        return data

    def _read_message(self):
        parts = []
        while True:
            b0, b1 = self._read_exact(2)
            length = b1 & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read_exact(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read_exact(8))[0]
            payload = self._read_exact(length)
            opcode = b0 & 0x0F
            if opcode == 0x8:
                raise CdpError("the browser closed the DevTools connection")
            if opcode in (0x9, 0xA):  # ping / pong: nothing to answer for a short-lived client
                continue
            parts.append(payload)
            if b0 & 0x80:
                return json.loads(b"".join(parts))

    def _write(self, text):
        data = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def send(self, method, params=None, session=None):
        """Calls `method` and returns its result (events read meanwhile are kept for wait_event)."""
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._write(json.dumps(message))
        while True:
            got = self._read_message()
            if got.get("id") == self.next_id:
                if "error" in got:
                    raise CdpError("%s: %s" % (method, got["error"]))
                return got.get("result", {})
            if "method" in got:
                self.events.append(got)

    def wait_event(self, method, check=lambda params: True, timeout=30):
        """The params of the first event `method` (seen or to come) for which `check` holds."""
        deadline = time.time() + timeout
        while True:
            for event in self.events:
                if event["method"] == method and check(event.get("params", {})):
                    self.events.remove(event)
                    return event["params"]
            remaining = deadline - time.time()
            if remaining <= 0:
                raise AssertionError("timed out waiting for the DevTools event " + method)
            self.sock.settimeout(remaining)
            try:
                self.events.append(self._read_message())
            except socket.timeout:
                pass
            finally:
                self.sock.settimeout(None)

    def page_session(self):
        """A session on one page target (the ServiceWorker domain lives on pages)."""
        pages = [t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page"]
        if not pages:
            raise CdpError("no page target to attach to")
        return self.send("Target.attachToTarget", {"targetId": pages[0]["targetId"], "flatten": True})["sessionId"]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
