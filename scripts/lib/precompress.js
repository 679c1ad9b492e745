// Writes a brotli (quality 11) and a gzip (level 9) copy beside every text and wasm file of a built
// app, for servers that send precompressed files (petrel-gateway, nginx brotli_static/gzip_static,
// Caddy's precompressed). A copy that would not be smaller is not written.
// Usage: node scripts/lib/precompress.js dist
const fs = require("fs"), path = require("path"), zlib = require("zlib");

const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".wasm", ".json", ".webmanifest", ".svg", ".txt", ".ico", ".map"]);

function* files(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* files(full);
    else if (entry.isFile()) yield full;
  }
}

const root = process.argv[2];
if (!root || !fs.existsSync(root)) {
  console.error("usage: precompress.js DIR");
  process.exit(2);
}
let raw = 0, br = 0, written = 0;
for (const file of files(root)) {
  if (!COMPRESSIBLE.has(path.extname(file).toLowerCase())) continue;
  const data = fs.readFileSync(file);
  const copies = [
    [".br", zlib.brotliCompressSync(data, { params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      [zlib.constants.BROTLI_PARAM_MODE]: path.extname(file) === ".wasm" ? zlib.constants.BROTLI_MODE_GENERIC : zlib.constants.BROTLI_MODE_TEXT,
    } })],
    [".gz", zlib.gzipSync(data, { level: 9 })],
  ];
  raw += data.length;
  for (const [suffix, packed] of copies) {
    const target = file + suffix;
    if (packed.length >= data.length) {
      fs.rmSync(target, { force: true });
      continue;
    }
    fs.writeFileSync(target, packed);
    written++;
    if (suffix === ".br") br += packed.length;
  }
}
console.log(`precompressed ${written} copies: ${raw} B raw, ${br} B as brotli`);
