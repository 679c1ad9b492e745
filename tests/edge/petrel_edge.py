"""Starts petrel-edge in workerd or Deno in front of a JMAP server, for the edge journeys (and by
hand: `python3 tests/edge/petrel_edge.py http://127.0.0.1:8008 [workerd|deno]` serves until Ctrl-C)."""

import os
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PetrelEdge:
    """petrel-edge (dist-edge/worker, from scripts/build-edge) in `runtime` (workerd or deno) on a
    free port, serving dist/ (scripts/build), proxying JMAP to `jmap_upstream`."""

    def __init__(self, jmap_upstream, cors_origins="", runtime="workerd"):
        self.runtime = runtime
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log = tempfile.NamedTemporaryFile(prefix="petrel-edge-", suffix=".log", delete=False).name
        env = {**os.environ, "PETREL_JMAP_UPSTREAM": jmap_upstream, "PETREL_CORS_ORIGINS": cors_origins}
        tools = os.path.join(ROOT, "node_modules", ".bin")
        if runtime == "workerd":
            command = [os.path.join(tools, "workerd"), "serve", os.path.join(ROOT, "edge", "worker", "workerd.capnp"),
                       "--socket-addr", "http=127.0.0.1:%d" % self.port,
                       "--directory-path", "assets=%s" % os.path.join(ROOT, "dist")]
        else:
            # As Deno Deploy runs it: the settings in the environment, reading only the app's files.
            env.update({"PORT": str(self.port), "HOSTNAME": "127.0.0.1", "DENO_NO_UPDATE_CHECK": "1", "NO_COLOR": "1"})
            command = [os.path.join(tools, "deno"), "run", "--no-prompt", "--allow-net", "--allow-env",
                       "--allow-read=%s,%s" % (os.path.join(ROOT, "dist"), os.path.join(ROOT, "dist-edge")),
                       os.path.join(ROOT, "dist-edge", "worker", "deno.js")]
        self.process = subprocess.Popen(command, stdout=open(self.log, "w"), stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("%s exited (%d):\n%s" % (runtime, self.process.returncode, self.said()))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("petrel-edge did not listen within 60 s:\n" + self.said())
                time.sleep(0.1)

    def said(self):
        with open(self.log) as f:
            return f.read()[-4000:]

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.unlink(self.log)


if __name__ == "__main__":
    edge = PetrelEdge(sys.argv[1], runtime=sys.argv[2] if len(sys.argv) > 2 else "workerd")
    print("petrel-edge in %s on %s (JMAP from %s); Ctrl-C stops it" % (edge.runtime, edge.url, sys.argv[1]))
    try:
        edge.process.wait()
    except KeyboardInterrupt:
        edge.stop()
