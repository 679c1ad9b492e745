#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of the gateway, for the browser tests: it takes the
server away for real (connections refused and cut), and breaks chosen requests the ways servers
and networks do, while logging when each request arrived (the retry schedule a client follows).

  fault_proxy.py --port P --upstream HOST:PORT --control-port C

Control (GET on 127.0.0.1:C, CORS open for the test page, JSON answers):
  /down, /up, /state     stop listening and cut every connection; listen again; which of the two
  /fault?match=S&action=A[&count=N][&status=K][&retry_after=R][&ms=M][&path=P]
                         the next N requests whose body contains S (POSTs; with path=P, any
                         request whose path starts with P) get fault A:
                           status  answer K (default 500) without forwarding; Retry-After: R if given
                           status-after  forward, let the server do the work, then answer K
                           cut     forward, wait for the server's answer, then close the connection
                                   without a byte (the request went out, its outcome is unknown)
                           reset   close the connection without forwarding (the server never saw it)
                           delay   forward, and hold the answer back M milliseconds
                           hold    keep the request M milliseconds before forwarding it, even if
                                   the client has gone (a request still on the wire)
  /log?match=S           requests whose body contained S: [{"t": epoch ms, "calls": [...], "fault": A}],
                         and "answered" (epoch ms) once a delayed answer has been passed on
  /clear                 forget faults and the log

Every proxied exchange is one request per connection (Connection: close both ways), so a fault
hits exactly the request it matched. WebSocket upgrades and event streams pass through.
"""
import argparse
import asyncio
import json
import re
import time
from urllib.parse import parse_qs, urlsplit

MAX_HEAD = 64 * 1024
MAX_LOG = 5000

state = {"server": None, "up": False, "writers": set(), "faults": [], "log": []}


def cors_headers(origin):
    return (
        "Access-Control-Allow-Origin: %s\r\n"
        "Access-Control-Expose-Headers: Retry-After\r\n" % (origin or "*")
    )


def set_connection_close(head):
    """The head with `Connection: close` instead of whatever it said (upgrades keep theirs)."""
    lines = head.split(b"\r\n")
    kept = [l for l in lines[1:] if l and not l.lower().startswith(b"connection:") and not l.lower().startswith(b"keep-alive:")]
    return b"\r\n".join([lines[0]] + kept + [b"Connection: close", b"", b""])


def request_path(head):
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    return parts[1].decode("latin-1") if len(parts) > 1 else ""


def take_fault(head, body):
    text = body.decode("utf-8", "replace")
    path = request_path(head)
    is_post = head.startswith(b"POST")
    for fault in state["faults"]:
        wanted = path.startswith(fault["path"]) if fault.get("path") else is_post
        if fault["count"] > 0 and wanted and fault["match"] in text:
            fault["count"] -= 1
            return fault
    return None


def record(body, fault):
    text = body.decode("utf-8", "replace")
    calls = re.findall(r'\[\s*"([A-Za-z]+/[A-Za-z]+)"', text)
    entry = {"t": time.time() * 1000, "calls": calls, "fault": fault["action"] if fault else None, "body": text[:65536]}
    state["log"].append(entry)
    del state["log"][:-MAX_LOG]
    return entry


async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEAD:
        raise ValueError("head too large")
    return head


def header(head, name):
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip().decode("latin-1")
    return None


async def pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, OSError):
        pass


async def read_all(reader):
    chunks = []
    while True:
        data = await reader.read(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def abort(writer):
    try:
        writer.transport.abort()
    except Exception:
        pass


async def handle(reader, writer, upstream):
    state["writers"].add(writer)
    up_writer = None
    if not state["up"]:
        # Accepted just before /down closed the listener, but started only after it cut every
        # connection: cut this one too, or a request slips through an outage.
        abort(writer)
        state["writers"].discard(writer)
        return
    try:
        head = await read_head(reader)
        length = int(header(head, b"content-length") or 0)
        body = await reader.readexactly(length) if length else b""
        fault = take_fault(head, body)
        entry = record(body, fault) if head.startswith(b"POST") else {}
        action = fault["action"] if fault else None
        origin = header(head, b"origin")
        if action == "reset":
            abort(writer)
            return
        if action == "status":
            status = fault.get("status", 500)
            extra = "Retry-After: %s\r\n" % fault["retry_after"] if fault.get("retry_after") is not None else ""
            reply = b'{"type":"urn:ietf:params:jmap:error:serverFault","status":%d}' % status
            writer.write(("HTTP/1.1 %d Injected\r\n%s%sContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                          % (status, cors_headers(origin), extra, len(reply))).encode() + reply)
            await writer.drain()
            return
        if action == "hold":
            await asyncio.sleep(fault.get("ms", 5000) / 1000)
        upgrade = (header(head, b"upgrade") or "") != ""
        up_reader, up_writer = await asyncio.open_connection(*upstream)
        up_writer.write((head if upgrade else set_connection_close(head)) + body)
        await up_writer.drain()
        if upgrade:
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            return
        if action in ("cut", "status-after", "delay"):
            answer = await read_all(up_reader)
            if action == "cut":
                abort(writer)
                return
            if action == "status-after":
                status = fault.get("status", 500)
                reply = b"{}"
                writer.write(("HTTP/1.1 %d Injected\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n"
                              % (status, cors_headers(origin), len(reply))).encode() + reply)
                await writer.drain()
                return
            await asyncio.sleep(fault.get("ms", 5000) / 1000)
            writer.write(answer)
            await writer.drain()
            entry["answered"] = time.time() * 1000
            return
        answer_head = await read_head(up_reader)
        writer.write(set_connection_close(answer_head))
        await pipe(up_reader, writer)
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, OSError):
        pass
    finally:
        state["writers"].discard(writer)
        if up_writer is not None:
            up_writer.close()
        try:
            writer.close()
        except Exception:
            pass


async def go_up(port, upstream):
    if state["up"]:
        return
    state["server"] = await asyncio.start_server(lambda r, w: handle(r, w, upstream), "127.0.0.1", port, reuse_address=True, limit=MAX_HEAD * 2)
    state["up"] = True


async def go_down():
    if not state["up"]:
        return
    # Down before anything is awaited: a connection whose handler starts from here on is cut (handle).
    state["up"] = False
    state["server"].close()
    for w in list(state["writers"]):
        abort(w)
    state["writers"].clear()
    await state["server"].wait_closed()


async def control(reader, writer, port, upstream):
    try:
        head = await read_head(reader)
        target = head.split(b" ")[1].decode()
        url = urlsplit(target)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        status, answer = 200, None
        if url.path == "/down":
            await go_down()
        elif url.path == "/up":
            await go_up(port, upstream)
        elif url.path == "/state":
            pass
        elif url.path == "/fault":
            fault = {"match": q.get("match", ""), "action": q.get("action", "status"), "count": int(q.get("count", 1))}
            for key in ("status", "ms"):
                if key in q:
                    fault[key] = int(q[key])
            if "retry_after" in q:
                fault["retry_after"] = q["retry_after"]
            if q.get("path"):
                fault["path"] = q["path"]
            state["faults"].append(fault)
            answer = fault
        elif url.path == "/log":
            match = q.get("match", "")
            answer = [{k: e[k] for k in ("t", "calls", "fault", "answered") if k in e} for e in state["log"] if match in e["body"]]
        elif url.path == "/clear":
            state["faults"].clear()
            state["log"].clear()
        else:
            status, answer = 404, {"error": "unknown control " + url.path}
        if answer is None:
            answer = {"up": state["up"]}
        body = json.dumps(answer).encode()
        writer.write(("HTTP/1.1 %d OK\r\nAccess-Control-Allow-Origin: *\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                      % (status, len(body))).encode() + body)
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--control-port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    upstream = (host, int(port))
    await go_up(args.port, upstream)
    server = await asyncio.start_server(lambda r, w: control(r, w, args.port, upstream), "127.0.0.1", args.control_port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
