#!/usr/bin/env python3
"""Petrel's release pipeline after cargo: splits the app's wasm into a first module and chunks
loaded on demand, runs wasm-bindgen and wasm-opt on them, and writes dist/ from index.html.

Trunk cannot host this (its pipeline is cargo -> wasm-bindgen -> wasm-opt, with no step between,
trunk-rs/trunk#1022), so release builds do not use Trunk: `trunk serve` stays the development
loop, unsplit, from the same index.html. Of index.html's `data-trunk` links this reads the ones
Petrel uses: css, copy-file, copy-dir and rust.

Usage: release.py RAW_WASM DIST   (RAW_WASM: rustc's output, linked with --emit-relocs)
"""
import base64
import glob
import hashlib
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
WASM_OPT = os.path.join(ROOT, "node_modules", ".bin", "wasm-opt")
# What rustc's wasm32 target emits today; chunks carry no target_features section to tell wasm-opt.
WASM_FEATURES = ["--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext",
                 "--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue"]


def run(*args):
    subprocess.run(args, check=True)


def digest(data, n=16):
    return hashlib.sha256(data).hexdigest()[:n]


def sri(data):
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def build_wasm(raw, work):
    """The split, bindgen and optimised modules, named by one digest of them all: the first
    module and its chunks name each other, so they change together or not at all."""
    split, bound = os.path.join(work, "split"), os.path.join(work, "bound")
    for d in (split, bound):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    run("wasm-split-cli", raw, split, "--target", "web", "--out-name", "petrel")
    run("wasm-bindgen", "--target", "web", "--keep-lld-exports", "--no-typescript", "--out-dir", bound,
        "--out-name", "petrel", os.path.join(split, "petrel.wasm"))
    chunks = sorted(p for p in glob.glob(os.path.join(split, "*.wasm")) if os.path.basename(p) != "petrel.wasm")
    files = {"petrel.js": os.path.join(bound, "petrel.js"), "petrel_bg.wasm": os.path.join(bound, "petrel_bg.wasm"),
             "__wasm_split.js": os.path.join(split, "__wasm_split.js")}
    for chunk in chunks:
        files[os.path.basename(chunk)] = chunk
    for name, path in files.items():
        if name.endswith(".wasm"):
            run(WASM_OPT, "-Oz", "--strip-debug", "--strip-producers", *WASM_FEATURES, path, "-o", path)
    contents = {name: read(path) for name, path in files.items()}
    build = digest(b"".join(contents[name] for name in sorted(contents)))
    names = {"petrel.js": "petrel-%s.js" % build, "petrel_bg.wasm": "petrel-%s_bg.wasm" % build,
             "__wasm_split.js": "wasm-split-%s.js" % build}
    for chunk in chunks:
        # split_composer (a split point's own code) -> composer; chunk_5 (code splits share) -> shared5.
        stem = re.sub(r"^chunk_", "shared", re.sub(r"^split_", "", os.path.basename(chunk)[:-5]))
        names[os.path.basename(chunk)] = "chunk-%s-%s.wasm" % (stem, build)
    # The references between them, by their new names.
    # Only the file the glue imports is renamed: the import's key stays the wasm's module name.
    glue = contents["petrel.js"].decode()
    if 'from "./__wasm_split.js"' not in glue:
        sys.exit("release.py: the wasm-bindgen glue does not import the split loader; was the app built with --features split?")
    contents["petrel.js"] = glue.replace('from "./__wasm_split.js"', 'from "./%s"' % names["__wasm_split.js"]).encode()
    link = contents["__wasm_split.js"].decode()
    link = link.replace('"./petrel.js"', '"./%s"' % names["petrel.js"])
    for chunk in chunks:
        old = '"./%s"' % os.path.basename(chunk)
        if old not in link:
            sys.exit("release.py: the split loader does not name %s" % old)
        link = link.replace(old, '"./%s"' % names[os.path.basename(chunk)])
    contents["__wasm_split.js"] = link.encode()
    return {names[name]: data for name, data in contents.items()}, names


def write_dist(dist, built, names):
    shutil.rmtree(dist, ignore_errors=True)
    os.makedirs(dist)
    for name, data in built.items():
        write(os.path.join(dist, name), data)
    html = read(os.path.join(ROOT, "index.html")).decode()

    def link(match):
        tag = match.group(0)
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        rel, href = attrs.get("rel"), attrs.get("href")
        if rel == "copy-file":
            shutil.copy(os.path.join(ROOT, href), dist)
            return ""
        if rel == "copy-dir":
            shutil.copytree(os.path.join(ROOT, href), os.path.join(dist, os.path.basename(href.rstrip("/"))))
            return ""
        if rel == "css":
            data = read(os.path.join(ROOT, href))
            stem = os.path.splitext(os.path.basename(href))[0]
            name = "%s-%s.css" % (stem, digest(data))
            write(os.path.join(dist, name), data)
            return '<link rel="stylesheet" href="/%s" integrity="%s"/>' % (name, sri(data))
        if rel == "rust":
            glue, wasm = names["petrel.js"], names["petrel_bg.wasm"]
            return ("<script type=\"module\">\n"
                    "import init, * as bindings from '/%s';\n"
                    "const wasm = await init({ module_or_path: '/%s' });\n"
                    "window.wasmBindings = bindings;\n"
                    "dispatchEvent(new CustomEvent(\"TrunkApplicationStarted\", {detail: {wasm}}));\n"
                    "</script>\n"
                    '<link rel="modulepreload" href="/%s" crossorigin="anonymous" integrity="%s">'
                    '<link rel="preload" href="/%s" crossorigin="anonymous" integrity="%s" as="fetch" type="application/wasm">'
                    % (glue, wasm, glue, sri(built[glue]), wasm, sri(built[wasm])))
        sys.exit("release.py: index.html has a data-trunk link this pipeline does not know: %s" % tag)

    html = re.sub(r"<link data-trunk [^>]*/?>", link, html)
    write(os.path.join(dist, "index.html"), html.encode())


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    raw, dist = sys.argv[1], sys.argv[2]
    work = os.path.join(os.path.dirname(os.path.abspath(raw)), "petrel-release")
    built, names = build_wasm(raw, work)
    write_dist(dist, built, names)
    for name in sorted(built):
        print("  %-48s %9d B" % (name, len(built[name])))


if __name__ == "__main__":
    main()
