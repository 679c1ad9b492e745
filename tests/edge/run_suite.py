#!/usr/bin/env python3
"""The edge suite in one runtime: workerd or deno. Starts the runtime with the core built by
scripts/build-edge, runs every check against the rig (JMAP_URL, SINK_HTTP, DEMO_USER,
DEMO_PASSWORD from the environment) and exits 1 if any failed.

Usage: tests/edge/run_suite.py workerd|deno
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from petrel_edge import ROOT, free_port  # noqa: E402
BIN = os.path.join(ROOT, "node_modules", ".bin")


def rig():
    # The bob account: the checks send mail and change folders, the demo account stays as seeded.
    return {
        "jmap": os.environ["JMAP_URL"],
        "user": os.environ.get("OTHER_USER", "bob@example.org"),
        "password": os.environ.get("OTHER_PASSWORD", "bob-password"),
        "sink": os.environ["SINK_HTTP"],
    }


def wait_for_port(port, process, seconds, log):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"the runtime exited ({process.returncode}):\n{open(log).read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"the runtime did not listen on {port} within {seconds} s:\n{open(log).read()}")


def call(url, body=None, timeout=120):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET",
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def run_workerd(settings):
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="workerd-", suffix=".log", delete=False).name
    config = os.path.join(ROOT, "edge", "core", "workerd", "suite.capnp")
    process = subprocess.Popen(
        [os.path.join(BIN, "workerd"), "serve", config, "--socket-addr", f"http=127.0.0.1:{port}", "--verbose"],
        stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, 60, log)
        base = f"http://127.0.0.1:{port}"
        listing = call(f"{base}/checks")
        print(f"runtime: {json.dumps(listing['runtime'])}", flush=True)
        failed = 0
        for name in listing["checks"]:
            started = time.time()
            result = call(f"{base}/run", {"name": name, "rig": settings})
            took = round((time.time() - started) * 1000)
            status = "ok   " if result["ok"] else "FAIL "
            failed += 0 if result["ok"] else 1
            print(f"{status} {name} ({took} ms): {result['detail']}", flush=True)
        if failed:
            print(f"{failed} check(s) failed; workerd said:\n{open(log).read()[-4000:]}")
        else:
            print("every check passed")
        return 1 if failed else 0
    finally:
        process.terminate()
        process.wait(timeout=10)
        os.unlink(log)


def run_deno(settings):
    storage = tempfile.mkdtemp(prefix="petrel-edge-deno-")
    script = os.path.join(ROOT, "edge", "core", "deno", "suite.js")
    # Only loopback, only the built core and the storage folder: the permissions are the proof
    # that nothing else is touched.
    allow_read = ",".join([os.path.join(ROOT, "dist-edge"), os.path.join(ROOT, "edge"), storage])
    return subprocess.run(
        [os.path.join(BIN, "deno"), "run", "--no-prompt", "--allow-net=127.0.0.1", f"--allow-read={allow_read}",
         f"--allow-write={storage}", script, json.dumps(settings), storage],
        env={**os.environ, "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"}).returncode


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("workerd", "deno"):
        sys.exit(__doc__)
    settings = rig()
    sys.exit(run_workerd(settings) if sys.argv[1] == "workerd" else run_deno(settings))


if __name__ == "__main__":
    main()
