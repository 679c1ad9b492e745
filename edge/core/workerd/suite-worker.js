// The edge suite's host in workerd (Cloudflare Workers' runtime). The core's wasm is imported as a
// module: workerd refuses to compile wasm at run time. Each check runs in a Durable Object, whose
// storage is where the outbox keeps its jobs (workerd has no IndexedDB).
import { initSync, checks, run_check, runtime } from "petrel_edge_core.js";
import coreWasm from "petrel_edge_core_bg.wasm";

initSync({ module: coreWasm });

export class SuiteOutbox {
  constructor(state) {
    this.storage = state.storage;
  }

  async fetch(request) {
    const { name, rig } = await request.json();
    try {
      const detail = await run_check(name, JSON.stringify(rig), this.storage);
      return Response.json({ name, ok: true, detail });
    } catch (error) {
      return Response.json({ name, ok: false, detail: String(error?.message ?? error) });
    }
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (pathname === "/checks") {
      return Response.json({ checks: checks(), runtime: JSON.parse(runtime()) });
    }
    if (pathname === "/run" && request.method === "POST") {
      const outbox = env.OUTBOX.get(env.OUTBOX.idFromName("edge-suite"));
      return outbox.fetch(request);
    }
    return new Response("POST /run { name, rig }, or GET /checks\n", { status: 404 });
  },
};
