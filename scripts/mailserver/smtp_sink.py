#!/usr/bin/env python3
"""A real SMTP server on 127.0.0.1 that stores every message it accepts as a file, and delivers nothing.

Each message becomes <dir>/<n>.eml (written to a temp name, then renamed, so a reader never sees half a
file), with the envelope in <dir>/<n>.json. Tests count and read these files.
Usage: smtp_sink.py --port PORT --dir DIR
"""
import argparse
import json
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
            json.dump({"mail_from": mail_from, "rcpt_to": rcpt_to, "size": len(data)}, f)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    with Sink(("127.0.0.1", args.port), args.dir) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
