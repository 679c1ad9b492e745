#!/usr/bin/env python3
"""What each crate weighs in a wasm file: sums the code size of every function by the crate its
(Rust-mangled) name starts with. Needs the name section, so run it on cargo's own output
(target/wasm32-unknown-unknown/release/petrel.wasm), before wasm-bindgen and wasm-opt strip it.

  wasm_weights.py FILE [TOP]     prints crates by size, then the TOP largest functions
"""
import collections
import re
import sys


def leb(data, pos):
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, pos


def sections(data):
    pos = 8
    while pos < len(data):
        sid = data[pos]
        size, pos = leb(data, pos + 1)
        yield sid, data[pos:pos + size]
        pos += size


def imported_functions(body):
    count, pos = leb(body, 0)
    funcs = 0
    for _ in range(count):
        for _ in range(2):  # module and field names
            n, pos = leb(body, pos)
            pos += n
        kind = body[pos]
        pos += 1
        if kind == 0:
            _, pos = leb(body, pos)
            funcs += 1
        elif kind == 1:
            pos += 1
            flags, pos = leb(body, pos)
            _, pos = leb(body, pos)
            if flags & 1:
                _, pos = leb(body, pos)
        elif kind == 2:
            flags, pos = leb(body, pos)
            _, pos = leb(body, pos)
            if flags & 1:
                _, pos = leb(body, pos)
        elif kind == 3:
            pos += 2
        elif kind == 4:
            pos += 1
            _, pos = leb(body, pos)
    return funcs


def crate_of(name):
    """The crate a mangled name belongs to; for petrel itself, its top module (petrel::ui, ...)."""
    if name.startswith("_ZN"):
        n = re.match(r"_ZN(\d+)", name)
        first = name[n.end():n.end() + int(n.group(1))]
        if first == "petrel":
            m = re.match(r"(\d+)", name[n.end() + 6:])
            if m:
                start = n.end() + 6 + m.end()
                return "petrel::" + name[start:start + int(m.group(1))]
        if first.startswith("_$LT$"):
            inner = first[5:]
            inner = inner.lstrip("&").replace("$RF$", "").replace("mut$u20$", "")
            inner = re.sub(r"^\$u5b\$|^\$LP\$", "", inner)
            parts = re.split(r"\$", inner)[0].split("..")
            if parts[0] == "petrel" and len(parts) > 1:
                return "petrel::" + parts[1]
            return parts[0] or "<impl>"
        return first
    return name.split("::")[0] if "::" in name else "<other: %s>" % ("wasm-bindgen glue" if name.startswith("__wbg") else "unnamed")


def main():
    data = open(sys.argv[1], "rb").read()
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    imports, sizes, names = 0, [], {}
    for sid, body in sections(data):
        if sid == 2:
            imports = imported_functions(body)
        elif sid == 10:
            count, pos = leb(body, 0)
            for _ in range(count):
                size, start = leb(body, pos)
                sizes.append(size)
                pos = start + size
        elif sid == 0:
            n, pos = leb(body, 0)
            if body[pos:pos + n] != b"name":
                continue
            pos += n
            while pos < len(body):
                sub, pos = body[pos], pos + 1
                length, pos = leb(body, pos)
                if sub == 1:
                    count, p = leb(body, pos)
                    for _ in range(count):
                        idx, p = leb(body, p)
                        ln, p = leb(body, p)
                        names[idx] = body[p:p + ln].decode(errors="replace")
                        p += ln
                pos += length
    by_crate = collections.Counter()
    funcs = []
    for i, size in enumerate(sizes):
        name = names.get(imports + i, "?")
        by_crate[crate_of(name)] += size
        funcs.append((size, name))
    total = sum(sizes)
    print("code %d bytes in %d functions (file %d bytes)" % (total, len(sizes), len(data)))
    for crate, size in by_crate.most_common(40):
        print("%9d  %5.1f%%  %s" % (size, 100.0 * size / total, crate))
    print()
    for size, name in sorted(funcs, reverse=True)[:top]:
        print("%9d  %s" % (size, name[:160]))


if __name__ == "__main__":
    main()
