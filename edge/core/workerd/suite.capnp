# workerd's configuration for the edge suite (tests/edge/run_suite.py starts it on a free port with
# --socket-addr http=127.0.0.1:PORT). The core comes from scripts/build-edge (dist-edge/core).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "suite", worker = .suite),
    # The rig's servers are on loopback: fetch may reach local addresses (only in this test config).
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8788", http = (), service = "suite")],
);

const suite :Workerd.Worker = (
  modules = [
    (name = "suite-worker.js", esModule = embed "suite-worker.js"),
    (name = "petrel_edge_core.js", esModule = embed "../../../dist-edge/core/petrel_edge_core.js"),
    (name = "petrel_edge_core_bg.wasm", wasm = embed "../../../dist-edge/core/petrel_edge_core_bg.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [(className = "SuiteOutbox", uniqueKey = "petrel-edge-suite")],
  durableObjectStorage = (inMemory = void),
  bindings = [(name = "OUTBOX", durableObjectNamespace = "SuiteOutbox")],
);
