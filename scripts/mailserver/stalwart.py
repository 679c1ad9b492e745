"""Stalwart (crates.io's stalwart-lite, built by build-stalwart.sh) as the rig's second JMAP server.

Same users as the Cyrus rig; outgoing mail for every domain is relayed to the rig's SMTP sink, as
Cyrus does, so the tests read what was sent in one place whichever server sent it.
"""
import base64
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def config(base, http_port, smtp_port, imap_port, sink_port, admin):
    """Stalwart's TOML config: a sqlite store under `base`, listeners on loopback only."""
    return """\
[server]
hostname = "mail.example.org"

[server.listener.http]
bind = ["127.0.0.1:%(http)d"]
protocol = "http"

[server.listener.smtp]
bind = ["127.0.0.1:%(smtp)d"]
protocol = "smtp"

[server.listener.imap]
bind = ["127.0.0.1:%(imap)d"]
protocol = "imap"

[store.db]
type = "sqlite"
path = "%(base)s/data/stalwart.sqlite3"

[storage]
data = "db"
fts = "db"
blob = "db"
lookup = "db"
directory = "internal"

[directory.internal]
type = "internal"
store = "db"

[authentication.fallback-admin]
user = "%(admin_user)s"
secret = "%(admin_secret)s"

[http]
# The address the session's URLs are built from; behind petrel-gateway the gateway rewrites them.
url = "'http://127.0.0.1:%(http)d'"
permissive-cors = true

# The rig seeds thousands of messages and the suites upload large blobs in quick succession:
# limits fit for tests, not for the internet.
[http.rate-limit]
account = "1000000/1m"
anonymous = "1000000/1m"

[jmap.protocol.upload]
max-size = 300000000
quota.files = 1000000
quota.size = 4000000000

# No spam filter: it would fetch its rules from the internet at start, and classify the seeded mail.
[spam-filter]
enable = false

[version]
spam-filter = "petrel-rig"

[session.auth]
# The rig's SMTP listener takes mail from local test senders without a login (it relays nothing).
require = false

[session.extensions]
# Scheduled send: JMAP submissions may be held (FUTURERELEASE, RFC 4865) for up to 30 days.
future-release = "30d"

# Everything goes to the SMTP sink, except mail whose envelope sender is at inbound.test: the
# journeys' "real delivery" (a filter must act on it), stored here like mail from the internet.
[queue.strategy]
route = [ { if = "sender_domain == 'inbound.test'", then = "'local'" },
          { else = "'sink'" } ]

[queue.route.sink]
type = "relay"
address = "127.0.0.1"
port = %(sink)d
protocol = "smtp"
tls.implicit = false
tls.allow-invalid-certs = true

[tracer.stdout]
type = "stdout"
level = "info"
ansi = false
enable = true
""" % {"base": base, "http": http_port, "smtp": smtp_port, "imap": imap_port, "sink": sink_port,
       "admin_user": admin[0], "admin_secret": admin[1]}


def _admin_call(http_port, admin, method, path, body=None):
    token = base64.b64encode(("%s:%s" % admin).encode()).decode()
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (http_port, path), method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Basic " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        answer = json.load(resp)
    if isinstance(answer, dict) and answer.get("error"):
        raise SystemExit("mailserver: Stalwart %s %s failed: %s" % (method, path, json.dumps(answer)))
    return answer


def set_quota(http_port, admin, login, octets):
    """Sets `login`'s storage quota, which Stalwart's JMAP Quota/get (RFC 9425) then reports."""
    _admin_call(http_port, admin, "PATCH", "/api/principal/" + urllib.parse.quote(login),
                [{"action": "set", "field": "quota", "value": octets}])


def wait_ready(http_port, timeout, proc, log_path):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("mailserver: Stalwart exited with %d; its log (%s) ends:\n%s"
                             % (proc.returncode, log_path, tail(log_path)))
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/healthz/ready" % http_port, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit("mailserver: Stalwart was not ready within %ds; its log (%s) ends:\n%s" % (timeout, log_path, tail(log_path)))


def tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def start(base, binary, sink_port, users, admin, domain, ports, quotas=None):
    """Starts Stalwart under `base` and creates `domain` and `users` in it, with the storage
    `quotas` (login: octets) given. `ports`: (http, smtp, imap). Returns the process id."""
    http_port, smtp_port, imap_port = ports
    os.makedirs(base + "/data", exist_ok=True)
    conf = base + "/etc/stalwart.toml"
    os.makedirs(base + "/etc", exist_ok=True)
    with open(conf, "w") as f:
        f.write(config(base, http_port, smtp_port, imap_port, sink_port, admin))
    log_path = base + "/stalwart.log"
    env = dict(os.environ, RUST_MIN_STACK="16777216")  # a debug build recurses deeply in its parsers
    with open(log_path, "ab") as logf:
        proc = subprocess.Popen([binary, "--config", conf], stdout=logf, stderr=logf, env=env, start_new_session=True)
    wait_ready(http_port, 60, proc, log_path)
    _admin_call(http_port, admin, "POST", "/api/principal", {"type": "domain", "name": domain})
    for login, password in users:
        _admin_call(http_port, admin, "POST", "/api/principal", {
            "type": "individual", "name": login, "secrets": [password], "emails": [login], "roles": ["user"],
            "quota": (quotas or {}).get(login, 0)})
    return proc.pid
