#!/usr/bin/env bash
# Builds Stalwart's mail server from crates.io's stalwart-lite, with Petrel's patch
# (stalwart-petrel.patch), and caches it. Prints the path of the binary on stdout.
#
# The patch adds what that crate leaves out or what a loopback rig needs:
# - the JMAP HTTP routes (/jmap/, /jmap/session, download, upload, eventsource, ws) and
#   /.well-known/jmap, over the handlers the crate does ship;
# - a StateChange after Email/import (otherwise push clients only ever see pings);
# - a relay route named by an IP address is used as it is, loopback included (the SMTP sink).
#
# Cache: $PETREL_CACHE (default ~/.cache/petrel)/stalwart-<version>-<patch hash>/stalwart
set -euo pipefail
log() { echo "build-stalwart: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
version=0.16.0
crate_sha256=4517acf71d6e5097ae2d98f15b2c86a67fafbcc546c2b670f0d31ace52eaac76
patch="$here/stalwart-petrel.patch"
patch_hash=$(sha256sum "$patch" | cut -c1-12)
root=${PETREL_CACHE:-$HOME/.cache/petrel}
cache=$root/stalwart-$version-$patch_hash
if [ -x "$cache/stalwart" ]; then
  echo "$cache/stalwart"
  exit 0
fi
mkdir -p "$root/stalwart"
crate="$root/stalwart/stalwart-lite-$version.crate"
if ! echo "$crate_sha256  $crate" | sha256sum -c --status 2>/dev/null; then
  log "fetching stalwart-lite $version from crates.io"
  curl -sSfL --retry 3 -o "$crate.part" "https://static.crates.io/crates/stalwart-lite/stalwart-lite-$version.crate"
  echo "$crate_sha256  $crate.part" | sha256sum -c --status || { log "the downloaded crate does not match its checksum"; exit 1; }
  mv "$crate.part" "$crate"
fi

# Unpacked outside any workspace, patched, built with the crate's own lock file. One target dir
# for every patch revision, so a changed patch rebuilds only Stalwart itself.
tree="$root/stalwart/tree"
rm -rf "$tree" && mkdir -p "$tree"
tar xzf "$crate" -C "$tree"
src="$tree/stalwart-lite-$version"
(cd "$src" && git apply -p1 "$patch")
log "building Stalwart $version (sqlite store; the first build takes several minutes)"
(cd "$src" && CARGO_TARGET_DIR="$root/stalwart/target" cargo build --locked --quiet --no-default-features --features sqlite) >&2
mkdir -p "$cache"
cp "$root/stalwart/target/debug/stalwart" "$cache/stalwart.part"
mv "$cache/stalwart.part" "$cache/stalwart"
echo "$cache/stalwart"
