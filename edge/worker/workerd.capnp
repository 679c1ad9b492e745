# petrel-edge in workerd, as tests/edge/journeys.py runs it (and as one runs it by hand):
#   PETREL_JMAP_UPSTREAM=http://127.0.0.1:8008 workerd serve edge/worker/workerd.capnp \
#     --socket-addr http=127.0.0.1:8787 --directory-path assets=$PWD/dist
# scripts/build-edge puts the worker and its manifest of dist/ into dist-edge/worker.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "petrel-edge", worker = .petrelEdge),
    # The app's files (the path is given with --directory-path assets=...).
    (name = "assets", disk = (writable = false)),
    # The mail server may be on loopback here: fetch may reach local addresses.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "petrel-edge")],
);

const petrelEdge :Workerd.Worker = (
  modules = [
    (name = "workerd.js", esModule = embed "../../dist-edge/worker/workerd.js"),
    (name = "petrel-edge.js", esModule = embed "../../dist-edge/worker/petrel-edge.js"),
    (name = "petrel-edge-manifest.json", json = embed "../../dist-edge/worker/petrel-edge-manifest.json"),
  ],
  compatibilityDate = "2026-11-01",
  bindings = [
    (name = "ASSETS", service = "assets"),
    (name = "PETREL_JMAP_UPSTREAM", fromEnvironment = "PETREL_JMAP_UPSTREAM"),
    (name = "PETREL_CORS_ORIGINS", fromEnvironment = "PETREL_CORS_ORIGINS"),
  ],
);
