#!/usr/bin/env python3
"""A TCP pass-through to the gateway that the browser tests can switch off and on, to take the
mail server away from the client for real (connections refused and cut), then bring it back.

  outage_proxy.py --port P --upstream HOST:PORT --control-port C

GET http://127.0.0.1:C/down closes the listener and cuts every open connection; /up listens again
on the same port; /state says which. Control answers carry CORS headers for the test page.
"""
import argparse
import select
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
state = {"listener": None, "conns": set(), "up": False}


def pump(a, b):
    try:
        while True:
            ready, _, _ = select.select([a, b], [], [], 60)
            if not ready:
                continue
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        for s in (a, b):
            with lock:
                state["conns"].discard(s)
            try:
                s.close()
            except OSError:
                pass


def serve(listener, upstream):
    while True:
        try:
            client, _ = listener.accept()
        except OSError:
            return  # the listener was closed: "down"
        try:
            server = socket.create_connection(upstream, timeout=10)
        except OSError:
            client.close()
            continue
        with lock:
            state["conns"].update((client, server))
        threading.Thread(target=pump, args=(client, server), daemon=True).start()


def up(port, upstream):
    with lock:
        if state["up"]:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        state["listener"], state["up"] = listener, True
    threading.Thread(target=serve, args=(listener, upstream), daemon=True).start()


def down():
    with lock:
        if not state["up"]:
            return
        # shutdown() wakes the thread blocked in accept(); close() alone would leave it listening.
        try:
            state["listener"].shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        state["listener"].close()
        for s in list(state["conns"]):
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass
        state["conns"].clear()
        state["up"] = False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    upstream = (host, int(port))
    up(args.port, upstream)

    class Control(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/down":
                down()
            elif self.path == "/up":
                up(args.port, upstream)
            elif self.path != "/state":
                self.send_error(404)
                return
            body = (b"up" if state["up"] else b"down")
            self.send_response(200)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    ThreadingHTTPServer(("127.0.0.1", args.control_port), Control).serve_forever()


if __name__ == "__main__":
    main()
