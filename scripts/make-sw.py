#!/usr/bin/env python3
"""Writes the service worker for a build: Trunk's post-build hook runs it on the staged app
(TRUNK_STAGING_DIR, or the folder given), listing every file of the shell and naming the cache
after a digest of their contents, so any changed file makes a new version."""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.environ["TRUNK_STAGING_DIR"]
    digest = hashlib.sha256()
    shell = ["/"]
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            path = os.path.join(folder, name)
            rel = "/" + os.path.relpath(path, root).replace(os.sep, "/")
            if rel in ("/sw.js", "/petrel-demo.json") or name.startswith("."):
                continue
            with open(path, "rb") as f:
                digest.update(rel.encode() + b"\0" + f.read())
            if rel != "/index.html":
                shell.append(rel)
    with open(os.path.join(HERE, "..", "assets", "sw.js")) as f:
        template = f.read()
    glue = [p for p in shell if p.endswith(".js") and p.startswith("/petrel-")]
    wasm = [p for p in shell if p.endswith("_bg.wasm")]
    if len(glue) != 1 or len(wasm) != 1:
        sys.exit("make-sw.py: expected one petrel-*.js and one *_bg.wasm in %s, found %s %s" % (root, glue, wasm))
    worker = (template.replace("__VERSION__", digest.hexdigest()[:16]).replace("__SHELL__", json.dumps(shell))
              .replace("__GLUE__", glue[0]).replace("__WASM__", wasm[0]))
    with open(os.path.join(root, "sw.js"), "w") as f:
        f.write(worker)


if __name__ == "__main__":
    main()
