// The edge suite's host in Deno. Usage:
//   deno run --allow-net=127.0.0.1 --allow-read --allow-write edge/core/deno/suite.js RIG_JSON STORAGE_DIR
// Prints one line per check and exits 1 if any failed. The outbox keeps its jobs in files
// (Deno has no IndexedDB).
import { initSync, checks, run_check, runtime } from "../../../dist-edge/core/petrel_edge_core.js";
import { FileStorage } from "./file_storage.js";

const wasmUrl = new URL("../../../dist-edge/core/petrel_edge_core_bg.wasm", import.meta.url);
initSync({ module: new WebAssembly.Module(await Deno.readFile(wasmUrl)) });

const [rig, dir] = Deno.args;
if (!rig || !dir) {
  console.error("usage: suite.js RIG_JSON STORAGE_DIR");
  Deno.exit(2);
}
const storage = new FileStorage(dir);
console.log(`runtime: ${runtime()}`);
let failed = 0;
for (const name of checks()) {
  const started = performance.now();
  try {
    const detail = await run_check(name, rig, storage);
    console.log(`ok    ${name} (${Math.round(performance.now() - started)} ms): ${detail}`);
  } catch (error) {
    failed += 1;
    console.log(`FAIL  ${name} (${Math.round(performance.now() - started)} ms): ${error?.message ?? error}`);
  }
}
console.log(failed ? `${failed} check(s) failed` : "every check passed");
Deno.exit(failed ? 1 : 0);
