#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 that stores every message it accepts as a file, and delivers nothing.

Each message becomes <dir>/<n>.eml (written to a temp name, then renamed, so a reader never sees half a
file), with the envelope in <dir>/<n>.json. Tests count and read these files.
Usage: smtp_sink.py --port PORT --dir DIR
"""
import argparse
import json
import time
import os
import socketserver
import threading

MAX_MESSAGE = 64 * 1024 * 1024


class Sink(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, addr, out_dir):
        super().__init__(addr, Session)
        self.out_dir = out_dir
        self.lock = threading.Lock()
        self.counter = len([f for f in os.listdir(out_dir) if f.endswith(".eml")])

    def store(self, mail_from, rcpt_to, data):
        with self.lock:
            self.counter += 1
            n = self.counter
        base = os.path.join(self.out_dir, "%06d" % n)
        with open(base + ".json.tmp", "w") as f:
            json.dump({"mail_from": mail_from, "rcpt_to": rcpt_to, "size": len(data), "received_ms": time.time() * 1000}, f)
        os.rename(base + ".json.tmp", base + ".json")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(data)
        os.rename(base + ".eml.tmp", base + ".eml")


class Session(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())
        self.wfile.flush()

    def handle(self):
        self.reply("220 petrel-smtp-sink ESMTP ready")
        mail_from, rcpt_to = None, []
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line[:4].upper()
            if verb in ("EHLO", "HELO"):
                if verb == "EHLO":
                    self.wfile.write(b"250-petrel-smtp-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                                     b"250 SIZE %d\r\n" % MAX_MESSAGE)
                    self.wfile.flush()
                else:
                    self.reply("250 petrel-smtp-sink")
            elif verb == "MAIL":
                mail_from, rcpt_to = line[10:].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpt_to.append(line[8:].strip())
                self.reply("250 OK")
            elif verb == "DATA":
                if mail_from is None or not rcpt_to:
                    self.reply("503 need MAIL and RCPT first")
                    continue
                self.reply("354 end with <CRLF>.<CRLF>")
                chunks, size = [], 0
                while True:
                    chunk = self.rfile.readline()
                    if not chunk:
                        return
                    if chunk in (b".\r\n", b".\n"):
                        break
                    if chunk.startswith(b".."):
                        chunk = chunk[1:]
                    size += len(chunk)
                    if size <= MAX_MESSAGE:
                        chunks.append(chunk)
                if size > MAX_MESSAGE:
                    self.reply("552 message too large")
                else:
                    self.server.store(mail_from, rcpt_to, b"".join(chunks))
                    self.reply("250 OK stored")
                mail_from, rcpt_to = None, []
            elif verb == "RSET":
                mail_from, rcpt_to = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 command not implemented")


def header(data, name):
    """One header's value from a stored message (unfolded), or ''."""
    head = data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    for line in head.split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower().encode():
            return value.strip().decode("utf-8", "replace")
    return ""


def listing(out_dir):
    """What the sink holds, in arrival order: envelope plus Message-ID and Subject."""
    out = []
    for name in sorted(f for f in os.listdir(out_dir) if f.endswith(".eml")):
        base = os.path.join(out_dir, name[:-4])
        with open(base + ".json") as f:
            entry = json.load(f)
        with open(base + ".eml", "rb") as f:
            data = f.read()
        entry.update({"n": int(name[:-4]), "message_id": header(data, "Message-ID"), "subject": header(data, "Subject"),
                      "bcc_header": header(data, "Bcc")})
        out.append(entry)
    return out


def serve_listing(port, out_dir):
    """GET /messages on 127.0.0.1:port: the listing as JSON, readable by browser tests (CORS)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Listing(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/messages":
                self.send_error(404)
                return
            body = json.dumps(listing(out_dir)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Listing)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--http-port", type=int, help="also list the stored messages as JSON over HTTP here")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    if args.http_port:
        serve_listing(args.http_port, args.dir)
    with Sink(("127.0.0.1", args.port), args.dir) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
