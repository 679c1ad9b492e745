#!/usr/bin/env python3
"""Starts and stops a self-contained JMAP server (Cyrus IMAP, or Stalwart) and an SMTP sink on 127.0.0.1.

  mailserver.py start DIR [--seed-demo] [--server stalwart --stalwart BIN]
                                          configure and start under DIR (new, or a stopped one)
  mailserver.py stop DIR                  stop everything started under DIR

Everything lives under DIR: config, spool, sockets, pid files, the sink's messages. Ports are chosen by
the kernel, so two runs on one machine never collide. After start, DIR/server.env holds the facts
(ports, users, sink folder) as KEY=value lines for scripts and tests.
"""
import argparse
import base64
import json
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
CYRUS_BIN = "/usr/lib/cyrus/bin"
DOMAIN = "example.org"
# (login, password); the first is the demo account the app signs in to, the third holds the big folder.
USERS = [("demo@" + DOMAIN, "demo-password"), ("bob@" + DOMAIN, "bob-password"), ("bulk@" + DOMAIN, "bulk-password")]
ADMIN = ("admin", "admin-password")
DEMO_QUOTA_KIB = 100 * 1024
SPECIAL_FOLDERS = ["Drafts", "Sent", "Trash", "Junk", "Archive"]


def log(msg):
    print("mailserver: " + msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("mailserver: %s did not start listening on 127.0.0.1:%d within %ds" % (what, port, timeout))


def imapd_conf(base, smtp_port):
    folders = " | ".join(SPECIAL_FOLDERS)
    lines = {
        "configdirectory": base + "/lib",
        "defaultpartition": "default",
        "partition-default": base + "/spool",
        "sievedir": base + "/lib/sieve",
        "mboxname_lockpath": base + "/run/lock",
        "lmtpsocket": base + "/run/socket/lmtp",
        "idlesocket": base + "/run/socket/idle",
        "notifysocket": base + "/run/socket/notify",
        "servername": "localhost",
        "admins": ADMIN[0],
        "allowplaintext": "yes",
        "sasl_pwcheck_method": "auxprop",
        "sasl_auxprop_plugin": "sasldb",
        "sasl_sasldb_path": base + "/etc/sasldb2",
        "sasl_mech_list": "PLAIN LOGIN",
        "virtdomains": "userid",
        "unixhierarchysep": "yes",
        "altnamespace": "yes",
        "httpmodules": "jmap",
        "httpallowcors": "*",
        "conversations": "1",
        "conversations_db": "twoskip",
        "smtp_backend": "host",
        "smtp_host": "127.0.0.1:%d/noauth" % smtp_port,
        "search_engine": "xapian",
        "defaultsearchtier": "t1",
        "t1searchpartition-default": base + "/search",
        "sync_log": "1",
        "sync_log_channels": "squatter",
        "autocreate_quota": "0",
        "autocreate_inbox_folders": folders,
        "autocreate_subscribe_folders": folders,
        "jmap_pushpoll": "1s",
        "jmap_preview_length": "200",
        # Cyrus's own JMAP extensions: SieveScript (filters) and Quota, which it offers only with this.
        "jmap_nonstandard_extensions": "yes",
        "syslog_prefix": "petrel-cyrus",
    }
    text = "".join("%s: %s\n" % kv for kv in lines.items())
    text += "".join("xlist-%s: %s\n" % (f.lower(), f) for f in SPECIAL_FOLDERS)
    return text


def cyrus_conf(base, conf, http_port, imap_port, httpd):
    c = "-C " + conf
    return """START {
  recover cmd="%(bin)s/ctl_cyrusdb %(c)s -r"
}
SERVICES {
  imap     cmd="%(bin)s/imapd %(c)s -U 30" listen="127.0.0.1:%(imap)d" prefork=0 maxchild=20
  http     cmd="%(httpd)s %(c)s -U 30" listen="127.0.0.1:%(http)d" prefork=0 maxchild=20
  lmtpunix cmd="%(bin)s/lmtpd %(c)s" listen="%(base)s/run/socket/lmtp" prefork=0 maxchild=5
}
EVENTS {
  checkpoint cmd="%(bin)s/ctl_cyrusdb %(c)s -c" period=30
}
DAEMON {
  squatter cmd="%(bin)s/squatter %(c)s -R"
  calalarmd cmd="%(bin)s/calalarmd %(c)s"
}
""" % {"bin": CYRUS_BIN, "c": c, "base": base, "http": http_port, "imap": imap_port, "httpd": httpd}


def make_dirs(base):
    for d in ["etc", "lib/db", "lib/proc", "lib/socket", "lib/log", "lib/msg", "lib/user", "lib/quota",
              "lib/lock", "lib/sieve", "spool/stage.", "search", "run/proc", "run/lock", "run/socket",
              "tmp", "sink"]:
        os.makedirs(os.path.join(base, d), exist_ok=True)
    cyrus = pwd.getpwnam("cyrus")
    for root, dirs, files in os.walk(base):
        for name in dirs + files:
            os.chown(os.path.join(root, name), cyrus.pw_uid, cyrus.pw_gid)
    os.chown(base, cyrus.pw_uid, cyrus.pw_gid)


def set_password(base, login, password):
    user, _, realm = login.partition("@")
    realm = realm or "localhost"
    subprocess.run(["saslpasswd2", "-f", base + "/etc/sasldb2", "-u", realm, "-p", "-c", user],
                   input=password.encode(), check=True)


def set_quota(port, login, kib, server="cyrus"):
    """Sets `login`'s storage quota (KiB): on Cyrus as the IMAP admin (RFC 2087 SETQUOTA) on the
    IMAP `port`, on Stalwart through its admin API on the HTTP `port`. JMAP Quota/get then reports it."""
    if server == "stalwart":
        import stalwart
        return stalwart.set_quota(port, ADMIN, login, kib * 1024)
    import imaplib
    imap = imaplib.IMAP4("127.0.0.1", port)
    try:
        imap.login(*ADMIN)
        typ, data = imap._simple_command("SETQUOTA", "user/" + login, "(STORAGE %d)" % kib)
        if typ != "OK":
            raise SystemExit("mailserver: SETQUOTA for %s failed: %s" % (login, data))
    finally:
        imap.logout()


def imap_login(port, login, password):
    """One IMAP login: Cyrus creates the INBOX and special folders on it (a JMAP login does not)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rwb")
        f.readline()
        f.write(b'a LOGIN "%s" "%s"\r\n' % (login.encode(), password.encode()))
        f.flush()
        while True:
            line = f.readline()
            if not line:
                raise SystemExit("mailserver: IMAP closed the connection during login as " + login)
            if line.startswith(b"a "):
                if not line.startswith(b"a OK"):
                    raise SystemExit("mailserver: IMAP login as %s failed: %s" % (login, line.decode().strip()))
                break
        f.write(b"b LOGOUT\r\n")
        f.flush()


def read_env(base):
    env = {}
    with open(os.path.join(base, "server.env")) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            env[key] = value
    return env


def deliver(env, recipient, raw):
    """Delivers `raw` to `recipient` as mail from the internet arrives, so the server's filters
    (Sieve) act on it, which Email/import never does: by LMTP into Cyrus; by SMTP into Stalwart,
    from an envelope sender at inbound.test (the rig stores that mail; all else goes to the sink).
    `env`: the rig's server.env (read_env) or the environment it was loaded into."""
    # By the server's name: an environment that held another rig's facts may still hold the other's.
    if env.get("SERVER") == "stalwart":
        client = smtplib.SMTP("127.0.0.1", int(env["STALWART_SMTP_PORT"]))
    else:
        client = smtplib.LMTP(env["LMTP_SOCKET"])
    try:
        refused = client.sendmail("sender@inbound.test", [recipient], raw)
    finally:
        client.quit()
    if refused:
        raise SystemExit("mailserver: delivery to %s refused: %s" % (recipient, refused))


def start_sink(base, smtp_port, sink_http):
    with open(base + "/sink.log", "ab") as logf:
        sink = subprocess.Popen([sys.executable, os.path.join(HERE, "smtp_sink.py"), "--port", str(smtp_port),
                                 "--dir", base + "/sink", "--http-port", str(sink_http)], stdout=logf, stderr=logf, start_new_session=True)
    with open(base + "/run/smtp-sink.pid", "w") as f:
        f.write(str(sink.pid))
    wait_for_port(smtp_port, 10, "the SMTP sink")


def start_cyrus(base, httpd, smtp_port, sink_http):
    """Returns the JMAP port and the server.env lines only Cyrus has."""
    http_port, imap_port = free_port(), free_port()
    conf = base + "/etc/imapd.conf"
    make_dirs(base)
    if httpd != CYRUS_BIN + "/httpd":
        # The services run as the cyrus user, who may not be able to reach the build cache.
        os.makedirs(base + "/bin", exist_ok=True)
        shutil.copy2(httpd, base + "/bin/httpd")
        httpd = base + "/bin/httpd"
    with open(conf, "w") as f:
        f.write(imapd_conf(base, smtp_port))
    with open(base + "/etc/cyrus.conf", "w") as f:
        f.write(cyrus_conf(base, conf, http_port, imap_port, httpd))
    for login, password in USERS + [ADMIN]:
        set_password(base, login, password)
    make_dirs(base)  # again: the files written above must belong to cyrus too

    # The sink first: Cyrus advertises submission only if it can reach its SMTP host.
    start_sink(base, smtp_port, sink_http)

    subprocess.run(["/usr/sbin/cyrmaster", "-C", conf, "-M", base + "/etc/cyrus.conf",
                    "-p", base + "/run/master.pid", "-d"], check=True)
    wait_for_port(http_port, 30, "Cyrus httpd")
    wait_for_port(imap_port, 30, "Cyrus imapd")

    for login, password in USERS:
        imap_login(imap_port, login, password)
    # The demo account has a limit, so the folder pane has a quota to show.
    set_quota(imap_port, USERS[0][0], DEMO_QUOTA_KIB)
    push = 0 if httpd == CYRUS_BIN + "/httpd" else 1  # 1: WebSocket and EventSource
    log("Cyrus JMAP on http://127.0.0.1:%d, IMAP on %d, SMTP sink on %d (%s)" % (http_port, imap_port, smtp_port, base))
    return http_port, "IMAP_PORT=%d\nLMTP_SOCKET=%s\nPUSH=%d\n" % (imap_port, base + "/run/socket/lmtp", push)


def start_stalwart(base, binary, smtp_port, sink_http):
    import stalwart
    for d in ["run", "sink"]:
        os.makedirs(os.path.join(base, d), exist_ok=True)
    start_sink(base, smtp_port, sink_http)
    ports = (free_port(), free_port(), free_port())
    pid = stalwart.start(base, binary, smtp_port, USERS, ADMIN, DOMAIN, ports, {USERS[0][0]: DEMO_QUOTA_KIB * 1024})
    with open(base + "/run/stalwart.pid", "w") as f:
        f.write(str(pid))
    log("Stalwart JMAP on http://127.0.0.1:%d, SMTP on %d, IMAP on %d, relaying to the SMTP sink on %d (%s)"
        % (ports[0], ports[1], ports[2], smtp_port, base))
    return ports[0], "IMAP_PORT=%d\nSTALWART_SMTP_PORT=%d\nPUSH=1\n" % (ports[2], ports[1])


def start(base, seed_demo, httpd, seed_bulk=0, server="cyrus", stalwart_bin=None):
    base = os.path.abspath(base)
    os.makedirs(base, exist_ok=True)
    os.chmod(base, 0o755)
    for pidfile in ["master.pid", "stalwart.pid"]:
        if os.path.exists(os.path.join(base, "run", pidfile)):
            raise SystemExit("mailserver: %s already has a running server; stop it first" % base)
    smtp_port, sink_http = free_port(), free_port()
    if server == "stalwart":
        if not stalwart_bin:
            raise SystemExit("mailserver: --server stalwart needs --stalwart BIN (build-stalwart.sh builds one)")
        http_port, extra = start_stalwart(base, stalwart_bin, smtp_port, sink_http)
    else:
        http_port, extra = start_cyrus(base, httpd, smtp_port, sink_http)

    with open(base + "/server.env", "w") as f:
        f.write("SERVER=%s\n" % server)
        f.write("JMAP_URL=http://127.0.0.1:%d\n" % http_port)
        f.write("JMAP_PORT=%d\nSMTP_PORT=%d\n" % (http_port, smtp_port))
        f.write(extra)
        f.write("SINK_DIR=%s/sink\nSINK_HTTP=http://127.0.0.1:%d\n" % (base, sink_http))
        f.write("DEMO_USER=%s\nDEMO_PASSWORD=%s\n" % USERS[0])
        f.write("OTHER_USER=%s\nOTHER_PASSWORD=%s\n" % USERS[1])
        f.write("BULK_USER=%s\nBULK_PASSWORD=%s\nBULK_MESSAGES=%d\n" % (USERS[2] + (seed_bulk,)))

    sys.path.insert(0, HERE)
    if seed_demo:
        import demo_mail
        demo_mail.seed("http://127.0.0.1:%d" % http_port, *USERS[0])
    if seed_bulk:
        import bulk_mail
        bulk_mail.seed("http://127.0.0.1:%d" % http_port, *USERS[2], seed_bulk)


def kill_pidfile(path, sig=signal.SIGTERM, timeout=10):
    try:
        with open(path) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.remove(path)
    except OSError:
        pass


def stop(base):
    base = os.path.abspath(base)
    kill_pidfile(base + "/run/master.pid")
    kill_pidfile(base + "/run/stalwart.pid")
    kill_pidfile(base + "/run/smtp-sink.pid")
    # A service child that outlived its master would keep a port: end anything still using this config.
    conf = base + "/etc/imapd.conf"
    subprocess.run(["pkill", "-KILL", "-f", "-e", "[-]C " + conf], check=False, stdout=subprocess.DEVNULL)
    log("stopped " + base)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_start = sub.add_parser("start")
    p_start.add_argument("dir")
    p_start.add_argument("--seed-demo", action="store_true", help="fill the demo account with realistic mail")
    p_start.add_argument("--seed-bulk", type=int, default=0, metavar="N",
                         help="put N generated messages in the Bulk folder of %s" % USERS[2][0])
    p_start.add_argument("--httpd", default=CYRUS_BIN + "/httpd",
                         help="the Cyrus httpd to run (build-push-httpd.sh makes one with WebSocket and EventSource push)")
    p_start.add_argument("--server", choices=["cyrus", "stalwart"], default="cyrus", help="the JMAP server to run")
    p_start.add_argument("--stalwart", metavar="BIN", help="the Stalwart binary (build-stalwart.sh builds one)")
    p_stop = sub.add_parser("stop")
    p_stop.add_argument("dir")
    args = parser.parse_args()
    if args.cmd == "start":
        try:
            start(args.dir, args.seed_demo, os.path.abspath(args.httpd), args.seed_bulk, args.server,
                  args.stalwart and os.path.abspath(args.stalwart))
        except BaseException:
            stop(args.dir)
            raise
    else:
        stop(args.dir)


if __name__ == "__main__":
    main()
