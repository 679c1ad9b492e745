#!/usr/bin/env python3
"""End-to-end PWA journeys in headless Chromium: the manifest as the browser parses it, the service
worker controlling the page, a start with the server gone (the fault proxy stops listening), and an
update: a changed file makes a new version, which waits for the user's "Reload to update".

Env: PETREL_E2E_APP (the app through the fault proxy), PETREL_TEST_PROXY_CONTROL,
PETREL_GATEWAY_BIN (a gateway for the update journey's own copy of the app), PETREL_APP_DIR (dist),
PETREL_TEST_USER / _PASSWORD (signing in to follow a mailto: link),
PETREL_E2E_ARTIFACTS.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import webdriver  # noqa: E402
from webdriver import Driver, fill_sign_in, free_port, run_journey, wait  # noqa: E402

APP = os.environ["PETREL_E2E_APP"]
CONTROL = os.environ["PETREL_TEST_PROXY_CONTROL"]
GATEWAY_BIN = os.environ["PETREL_GATEWAY_BIN"]
APP_DIR = os.environ["PETREL_APP_DIR"]
ARTIFACTS = os.environ.get("PETREL_E2E_ARTIFACTS", "target/e2e")
USER = os.environ["PETREL_TEST_USER"]
PASSWORD = os.environ["PETREL_TEST_PASSWORD"]
MAKE_SW = os.path.join(HERE, "..", "..", "scripts", "make-sw.py")


def proxy(path):
    with urllib.request.urlopen(CONTROL + path, timeout=10) as r:
        return r.read()


def controlled(d):
    """Waits until a service worker is active and controls this page."""
    webdriver.controlled(d, lambda d: d.element("#sign-in, .shell", timeout=60))


def journey_manifest(d):
    d.get(APP + "/")
    d.element("#sign-in, .shell", timeout=60)
    if d.engine == "chromium":
        got = d.cmd("POST", "/goog/cdp/execute", {"cmd": "Page.getAppManifest", "params": {}})
        assert got["errors"] == [], "the browser found errors in the manifest: %s" % got["errors"]
    else:
        # Only Chromium parses the manifest for us: elsewhere the page's own link is followed.
        got = d.run("const link = document.querySelector('link[rel=manifest]');"
                    "return fetch(link.href).then(r => r.text()).then(data => ({url: link.href, data}))")
    assert got["url"].endswith("/manifest.webmanifest"), got["url"]
    manifest = json.loads(got["data"])
    assert manifest["display"] == "standalone" and manifest["short_name"] == "Petrel"
    purposes = {(i["sizes"], i["purpose"]) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes, purposes
    assert manifest["protocol_handlers"][0]["protocol"] == "mailto"
    # Every icon it names is served as a PNG.
    for icon in manifest["icons"]:
        with urllib.request.urlopen(APP + icon["src"], timeout=10) as r:
            assert r.headers["content-type"] == "image/png" and r.read(8) == b"\x89PNG\r\n\x1a\n", icon["src"]
    # What decides whether Chromium offers "Install Petrel" (manifest, icons, a worker with a fetch handler).
    d.run("return navigator.serviceWorker.ready.then(() => true)")
    if d.engine == "chromium":
        errors = d.cmd("POST", "/goog/cdp/execute", {"cmd": "Page.getInstallabilityErrors", "params": {}})["installabilityErrors"]
        assert errors == [], "Chromium would not offer to install Petrel: %s" % errors


def journey_controls(d):
    d.get(APP + "/")
    d.element("#sign-in, .shell", timeout=60)
    controlled(d)
    names = d.run("return caches.keys()")
    assert [n for n in names if n.startswith("petrel-shell-")], names
    cached = d.run("return caches.open(arguments[0]).then(c => c.keys()).then(ks => ks.map(r => new URL(r.url).pathname))",
                   [n for n in names if n.startswith("petrel-shell-")][0])
    assert "/" in cached and any(p.endswith(".wasm") for p in cached), cached
    assert not any(p.startswith(("/jmap", "/.well-known", "/rustmailer")) for p in cached), "no API response is cached: %s" % cached
    # Opening a server address in the tab reaches the server, not the cached app. Not in WebKit:
    # the server's 401 opens an HTTP sign-in dialog there, which is no WebDriver prompt, and the
    # navigation never ends (the worker's routing is the same script in every engine).
    if d.engine != "webkit":
        d.get(APP + "/.well-known/jmap")
        # Firefox can hand control back before the new document replaced the app's (seen once in
        # a few runs): the server's answer must take the app's place, not merely once looked at.
        wait("the server's answer in the tab, not the app", lambda: d.run(
            "return document.readyState === 'complete' && !document.querySelector('#sign-in, .shell')"), 30)
        assert "401" in d.run("return String(performance.getEntriesByType('navigation')[0].responseStatus)"), "the server's own answer (unauthorised)"


def journey_offline_start(d):
    """Signed in once, the server gone, a reload: the shell and the cached inbox, from this device."""
    sign_in_at(d, APP + "/")
    d.element(".message-row", timeout=60)
    subjects = d.run("return [...document.querySelectorAll('.message-row .subject')].slice(0, 3).map(e => e.innerText)")
    controlled(d)
    proxy("/down")
    try:
        d.refresh()
        d.element(".offline-banner", timeout=60)
        d.wait_for("the cached inbox", lambda: d.run(
            "return [...document.querySelectorAll('.message-row .subject')].slice(0, 3).map(e => e.innerText)") == subjects, 30)
        assert d.find(".mailbox[data-role=inbox] .mailbox-button.selected"), "the Inbox is shown"
        assert d.find("#offline-sign-in"), "a way to sign in again when the server is back"
        d.screenshot(os.path.join(ARTIFACTS, "pwa-offline-start.png"))
    finally:
        proxy("/up")
    # Back online: signing in again from the offline shell brings the live account.
    d.element("#offline-sign-in").click()
    d.element("#password").type(PASSWORD)
    d.element("#sign-in-button").click()
    d.wait_for("live again", lambda: not d.find(".offline-banner") and d.find(".message-row"), 60)


def journey_warm_start(d):
    """Signed in once, a reload, the password again: the cached inbox paints while the server's
    session answer is still on its way (held 3 s at the proxy), then the live account takes over
    in place: a message opened meanwhile stays open and loads."""
    sign_in_at(d, APP + "/")
    d.element(".message-row", timeout=60)
    subjects = d.run("return [...document.querySelectorAll('.message-row .subject')].slice(0, 3).map(e => e.innerText)")
    d.refresh()
    d.element("#password", timeout=60).type(PASSWORD)
    # The start's own reachability check (a GET of the session URL) is over before Sign in.
    d.wait_for("the reachability check", lambda: d.run(
        "return performance.getEntriesByType('resource').some(e => e.name.includes('/.well-known/jmap'))"), 30)
    # The session itself: its discovery request held 3 s (Cyrus redirects it to /jmap, Stalwart
    # answers it directly; either way the session comes 3 s late).
    proxy("/fault?path=/.well-known/jmap&action=delay&ms=3000&count=1")
    started = d.run("return performance.now()")
    d.element("#sign-in-button").click()
    d.wait_for("the cached inbox", lambda: d.run(
        "return [...document.querySelectorAll('.message-row .subject')].slice(0, 3).map(e => e.innerText)") == subjects, 30)
    painted = d.run("return performance.now()")
    # Opened while connecting; the same view (marked) must still be there once the account is live.
    d.run("document.querySelector('.shell').dataset.mark = 'before-live'")
    d.element(".message-row").click()
    d.element(".reader")
    assert d.run("return document.querySelector('.shell').dataset.connection") == "connecting", "the account was live too early for this check"
    answered = d.run("return performance.getEntriesByType('resource').filter(e => e.name.includes('/.well-known/jmap') && e.startTime >= arguments[0]).map(e => e.responseEnd)", started)
    assert not answered, "painted only after the session answered (%s; clicked at %s, all: %s)" % (answered, started, d.run(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/.well-known/jmap')).map(e => [e.name, e.startTime, e.responseEnd])"))
    d.wait_for("the live account", lambda: d.run(
        "return performance.getEntriesByType('resource').some(e => e.name.includes('/.well-known/jmap') && e.startTime >= arguments[0])", started), 30)
    d.wait_for("connected", lambda: d.find(".shell[data-connection=live]"), 30)
    d.wait_for("the status line past Connecting", lambda: "Connecting" not in d.run("return document.querySelector('.live-status').innerText"), 10)
    assert d.run("return document.querySelector('.shell').dataset.mark") == "before-live", "the view was rebuilt when the account went live"
    d.wait_for("the opened message's body", lambda: d.find(".reader .mail-frame, .reader .plain-text") and not d.find(".reader .message-view .notice"), 30)
    return "cached inbox %.0f ms after Sign in, before the session answered; went live in place" % (painted - started)


def journey_update(d):
    """A copy of the app behind its own gateway; a file changes, a new worker installs and waits."""
    root = tempfile.mkdtemp(prefix="petrel-pwa-")
    app = os.path.join(root, "app")
    shutil.copytree(APP_DIR, app)
    port = free_port()
    gateway = subprocess.Popen([GATEWAY_BIN, "--listen", "127.0.0.1:%d" % port, "--app-dir", app],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = "http://127.0.0.1:%d" % port
        wait("the update gateway", lambda: _listening(port), 20)
        d.get(url + "/")
        d.element("#sign-in", timeout=60)
        controlled(d)
        assert not d.find("#update-reload")
        # A new build: the page changes (a real build changes its hashed files and the page naming
        # them; the page alone keeps Trunk's integrity hashes valid), and with it the worker's version.
        page = os.path.join(app, "index.html")
        with open(page) as f:
            html = f.read()
        with open(page, "w") as f:
            f.write(html.replace("<head>", '<head><meta name="petrel-build" content="two">', 1))
        subprocess.run([sys.executable, MAKE_SW, app], check=True)
        build = "const m = document.querySelector('meta[name=petrel-build]'); return m ? m.content : null"
        d.run("return navigator.serviceWorker.getRegistration().then(r => r.update()).then(() => true)")
        d.element("#update-reload", timeout=60)
        # Still the old version until the user agrees.
        assert d.run(build) is None
        d.screenshot(os.path.join(ARTIFACTS, "pwa-update-available.png"))
        d.element("#update-reload").click()
        d.wait_for("the new version", lambda: d.run(build) == "two", 60)
        d.element("#sign-in", timeout=60)
        names = d.run("return caches.keys()")
        assert len([n for n in names if n.startswith("petrel-shell-")]) == 1, "the old cache is gone: %s" % names
    finally:
        gateway.terminate()
        gateway.wait(10)
        shutil.rmtree(root, ignore_errors=True)


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def sign_in_at(d, url):
    d.get(url)
    fill_sign_in(d, APP, USER, PASSWORD)


def journey_mailto(d):
    link = "mailto:ann@example.org?cc=bo@example.org&subject=Hello%20Ann&body=Line%201%0D%0ALine%202"
    sign_in_at(d, APP + "/?mailto=" + urllib.parse.quote(link, safe=""))
    d.element("#compose-to", timeout=60)
    value = lambda field: d.run("return document.getElementById(arguments[0]).value", field)
    assert value("compose-to") == "ann@example.org", value("compose-to")
    assert value("compose-cc") == "bo@example.org", value("compose-cc")
    assert value("compose-subject") == "Hello Ann"
    assert value("compose-body").startswith("Line 1\nLine 2"), value("compose-body")
    assert d.run("return location.search") == "", "the link is taken out of the address"
    d.screenshot(os.path.join(ARTIFACTS, "pwa-mailto.png"))
    # A malformed link is named, and nothing is half-filled.
    sign_in_at(d, APP + "/?mailto=" + urllib.parse.quote("mailto:ann@example.org?subject=100%", safe=""))
    notice = d.element(".notice", timeout=60).text
    assert "broken %-escape" in notice, notice
    assert not d.find("#compose-to")


def journey_notifications(d):
    """Switched on in Settings (permission granted), Petrel in the background, three mails arrive
    together: one notification, and its click opens the newest."""
    sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "mailserver"))
    from demo_mail import Jmap, message
    import datetime
    sign_in_at(d, APP + "/")
    d.element(".message-row", timeout=60)
    if not d.run("return 'Notification' in self"):
        # An engine without notifications: Settings say so and offer no switch that cannot work.
        d.element("#settings-button").click()
        d.element("#notify-support")
        assert d.run("return document.getElementById('pref-notify').disabled"), "the switch is off where nothing can notify"
        return
    if d.engine == "webkit":
        # WebKitWebDriver has no command that grants a permission, and MiniBrowser under automation
        # refuses every request: what a user who says no sees is checked here instead.
        d.element("#settings-button").click()
        d.element("#pref-notify").click()
        d.wait_for("the refusal said", lambda: "did not allow notifications" in d.run("return document.body.innerText"), 10)
        assert not d.run("return document.getElementById('pref-notify').checked"), "the switch stays off when refused"
        return
    if d.engine == "chromium":
        d.cmd("POST", "/goog/cdp/execute", {"cmd": "Browser.grantPermissions", "params": {"permissions": ["notifications"], "origin": APP}})
    # Firefox grants it by a preference (tests/webdriver.json).
    d.element("#settings-button").click()
    d.element("#pref-notify")
    assert not d.find("#notify-support"), "no warning where notifications work"
    d.element("#pref-notify").click()
    d.wait_for("notifications switched on", lambda: d.run("return document.getElementById('pref-notify').checked"), 10)
    d.wait_for("Inbox", lambda: [b for b in d.find(".mailbox-button") if (b.text or "").startswith("Inbox")], 10)[0].click()
    # Watch what Petrel shows, and put it in the background.
    d.run("window.__notes = []; const Real = window.Notification;"
          "window.Notification = class extends Real { constructor(t, o) { super(t, o); window.__notes.push({title: t, body: o && o.body, note: this}); } };"
          "Object.defineProperty(document, 'visibilityState', {get: () => 'hidden', configurable: true});")
    jmap = Jmap(APP, USER, PASSWORD)
    inbox = [m["id"] for m in jmap.call(["Mailbox/get", {"accountId": jmap.account, "ids": None}])[0]["list"] if m.get("role") == "inbox"][0]
    token = "note%d" % (time.time() * 1000 % 1e9)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    emails = {}
    for i, sender in enumerate(["Ann Lee <ann@example.com>", "Bo Chen <bo@example.com>", "Cleo Park <cleo@example.com>"]):
        blob = jmap.upload(message(sender, "demo@example.org", "%s arrival %d" % (token, i), now, "Hello %d\n" % i, "%s-%d" % (token, i)))
        emails["e%d" % i] = {"blobId": blob, "mailboxIds": {inbox: True}, "keywords": {}, "receivedAt": (now + datetime.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    jmap.call(["Email/import", {"accountId": jmap.account, "emails": emails}])
    notes = d.wait_for("a notification", lambda: d.run("return window.__notes.map(n => [n.title, n.body])"), 60)
    assert notes == [["3 new messages", "Ann Lee, Bo Chen, Cleo Park"]], notes
    d.run("window.__notes[0].note.onclick()")
    d.wait_for("the newest opened", lambda: d.run("const h = document.getElementById('reader-subject'); return h && h.innerText.includes(arguments[0])", "%s arrival 2" % token), 30)
    assert len(d.run("return window.__notes")) == 1, "one notification for the burst"


def main():
    journeys = [
        ("the manifest parses", journey_manifest),
        ("the service worker controls the page", journey_controls),
        ("offline start", journey_offline_start),
        ("warm start paints before the server answers", journey_warm_start),
        ("update waits for the user", journey_update),
        ("a mailto: link opens a filled composer", journey_mailto),
        ("new mail in the background: one notification", journey_notifications),
    ]
    failed = 0
    for name, run in journeys:
        # A fresh browser each: no worker or cache carried from one journey to the next, and the
        # server reachable whatever an earlier journey (or suite) left the proxy doing.
        proxy("/clear")
        proxy("/up")
        d = Driver()
        try:
            failed += not run_journey(d, name, run, os.path.join(ARTIFACTS, "pwa-failed-%s.png" % name.replace(" ", "-")))
        finally:
            d.quit()
    if failed:
        sys.exit("%d PWA journeys failed" % failed)


if __name__ == "__main__":
    main()
