#!/usr/bin/env python3
"""End-to-end outbox journeys: the release app as served by the gateway (through the fault proxy),
in headless Chromium, against real Cyrus and the SMTP sink. What the wasm tests cannot do from
inside one page: reload the page in the middle of a send, and two real tabs.

Every journey ends by counting at the sink (exactly once) and by asking the server that no held
submission of the message is left, so no late duplicate can still come.

Env: PETREL_E2E_APP (the app through the fault proxy), PETREL_TEST_PROXY_CONTROL, PETREL_TEST_SINK,
PETREL_TEST_GATEWAY, PETREL_TEST_OTHER_USER / _PASSWORD, PETREL_E2E_ARTIFACTS (screenshots).
"""
import base64
import json
import os
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cdp import Cdp  # noqa: E402
from composer import compose_and_send  # noqa: E402
from webdriver import Driver, controlled, fill_sign_in, run_journey, wait  # noqa: E402

APP = os.environ["PETREL_E2E_APP"]
CONTROL = os.environ["PETREL_TEST_PROXY_CONTROL"]
SINK = os.environ["PETREL_TEST_SINK"]
GATEWAY = os.environ["PETREL_TEST_GATEWAY"]
USER = os.environ["PETREL_TEST_OTHER_USER"]
PASSWORD = os.environ["PETREL_TEST_OTHER_PASSWORD"]
ARTIFACTS = os.environ.get("PETREL_E2E_ARTIFACTS", "target/e2e")


def get_json(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def proxy(path):
    return get_json(CONTROL + path)


def arrived(token):
    return [m for m in get_json(SINK + "/messages") if token in (m.get("subject") or "")]


def jmap_session():
    auth = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
    return auth, get_json(GATEWAY + "/.well-known/jmap", headers={"Authorization": auth})


def jmap_account():
    """The demo account's id: the login on Cyrus, a short id of its own on Stalwart."""
    return jmap_session()[1]["primaryAccounts"]["urn:ietf:params:jmap:mail"]


def jmap(calls):
    auth, session = jmap_session()
    api = urllib.parse.urljoin(GATEWAY + "/", session["apiUrl"])
    body = {"using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail", "urn:ietf:params:jmap:submission"], "methodCalls": calls}
    return get_json(api, json.dumps(body).encode(), {"Authorization": auth, "Content-Type": "application/json"})["methodResponses"]


def held_submissions(message_id):
    """Submissions of the message the server still holds (a copy that could still leave)."""
    account = jmap_account()
    found = jmap([["Email/query", {"accountId": account, "filter": {"header": ["Message-ID", message_id]}}, "q"]])
    ids = found[0][1]["ids"]
    if not ids:
        return []
    pending = jmap([["EmailSubmission/query", {"accountId": account, "filter": {"emailIds": ids, "undoStatus": "pending"}}, "s"]])
    return pending[0][1]["ids"]


def assert_delivered_once(token):
    mail = wait("%s at the sink" % token, lambda: arrived(token), 60, every=0.25)
    message_id = mail[0]["message_id"]
    wait("no held copy of %s left" % token, lambda: not held_submissions(message_id), 30, every=0.25)
    got = arrived(token)
    assert len(got) == 1, "%s delivered %d times" % (token, len(got))


def sign_in(d):
    d.element("#sign-in")
    fill_sign_in(d, APP, USER, PASSWORD)
    # Live, not the cached copy shown while connecting: the journeys cut the server off next.
    d.element(".shell[data-connection=live]", timeout=60)


def send(d, token):
    compose_and_send(d, "Friend <friend@example.net>", token, "Sent by the end-to-end journey %s.\n" % token)


def job_states(d, token):
    """The states the Outbox view shows for jobs whose row mentions `token` (read in one go: rows
    re-render as jobs change)."""
    return d.run("return [...document.querySelectorAll('.outbox-job')].filter(r => r.innerText.includes(arguments[0])).map(r => r.dataset.state)", token)


def open_outbox(d):
    d.element("#outbox-button").click()
    d.element(".outbox")


def reload_in_the_middle_of_a_send(d):
    token = "e2e-reload-%d" % int(time.time() * 1000)
    # The send request waits 8 s at the proxy, then goes on to the server even though the page
    # that sent it is gone: a request still on the wire when the tab reloads. The reloaded tab
    # checks with the server before that (nothing there yet) and sends anew; the late copy must
    # then be refused by the server (same bytes: Cyrus answers alreadyExists), not sent twice.
    proxy("/fault?match=%s&action=hold&ms=8000&count=1" % token)
    send(d, token)
    wait("the send request at the proxy", lambda: proxy("/log?match=" + token), 30)
    d.refresh()
    sign_in(d)
    open_outbox(d)
    d.wait_for("the job shown as sent", lambda: "sent" in job_states(d, token), 60)
    d.screenshot(os.path.join(ARTIFACTS, "outbox-after-reload.png"))
    assert_delivered_once(token)
    return "reloaded while the send request was on the wire; delivered once"


def two_tabs(d):
    first = d.current_tab()
    second = d.new_tab()
    d.switch_to(second)
    d.get(APP)
    sign_in(d)
    open_outbox(d)
    d.switch_to(first)
    token = "e2e-tabs-%d" % int(time.time() * 1000)
    send(d, token)
    d.switch_to(second)
    # The second tab hears of the job from the first (BroadcastChannel) and sees it through.
    d.wait_for("the other tab to show the job sent", lambda: "sent" in job_states(d, token), 60)
    d.screenshot(os.path.join(ARTIFACTS, "outbox-second-tab.png"))
    assert_delivered_once(token)
    d.switch_to(first)
    return "two tabs: sent once, followed by the other tab"


def undo_from_the_undo_bar(d):
    token = "e2e-undo-%d" % int(time.time() * 1000)
    send(d, token)
    d.element("#undo-send").click()
    open_outbox(d)
    d.wait_for("the job cancelled", lambda: "cancelled" in job_states(d, token), 30)
    d.screenshot(os.path.join(ARTIFACTS, "outbox-undone.png"))
    # A control mail sent after it with the same window: once it is at the sink, the undone
    # one's time has passed too.
    control = token + "-control"
    send(d, control)
    assert_delivered_once(control)
    assert not [m for m in arrived(token) if m["subject"] == token], "the undone mail was delivered"
    return "undo: the cancelled mail never left"


# The send grants the page leaves for its service worker (IndexedDB "petrel", store "send-grants").
COUNT_GRANTS = """
return new Promise((resolve, reject) => {
  const open = indexedDB.open("petrel");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains("send-grants")) { db.close(); resolve(0); return; }
    const count = db.transaction("send-grants").objectStore("send-grants").count();
    count.onsuccess = () => { db.close(); resolve(count.result); };
    count.onerror = () => reject(count.error);
  };
});"""


def queue_and_close(d, token):
    """With the server out of reach: writes a mail, waits until the page left its grant for the
    service worker, then closes every Petrel page (from a blank tab, which stays)."""
    controlled(d, sign_in)
    proxy("/down")
    send(d, token)
    d.wait_for("the send grant stored", lambda: d.run(COUNT_GRANTS) == 1, 30)
    blank = d.new_tab()
    for tab in d.tabs():
        if tab != blank:
            d.switch_to(tab)
            d.close_tab()
    d.switch_to(blank)
    assert d.tabs() == [blank], "only the blank tab is left"


def page_hands_over_to_the_service_worker(d):
    token = "e2e-bg-page-%d" % int(time.time() * 1000)
    queue_and_close(d, token)
    # No Petrel page is open now: the worker the closing page woke sends it once the server is back.
    proxy("/up")
    assert_delivered_once(token)
    return "queued offline, page closed, sent by the service worker once the server was back"


def background_sync_wakes_a_restarted_worker(d):
    token = "e2e-bg-sync-%d" % int(time.time() * 1000)
    d.get(APP)
    sign_in(d)
    queue_and_close(d, token)
    cdp = Cdp(d.debugger_address)
    try:
        page = cdp.page_session()
        cdp.send("ServiceWorker.enable", session=page)
        origin = APP.rstrip("/")
        registration = cdp.wait_event("ServiceWorker.workerRegistrationUpdated",
                                      lambda p: any(r["scopeURL"].startswith(origin) and not r["isDeleted"] for r in p["registrations"]))
        registration_id = next(r["registrationId"] for r in registration["registrations"] if r["scopeURL"].startswith(origin))
        # The browser stops idle workers: this one forgets everything the page told it.
        cdp.send("ServiceWorker.stopAllWorkers", session=page)
        proxy("/up")
        # What the browser does when the network is back: the worker starts from nothing and
        # finds the grant in IndexedDB.
        cdp.send("ServiceWorker.dispatchSyncEvent", {"origin": origin, "registrationId": registration_id, "tag": "petrel-outbox", "lastChance": False}, session=page)
        assert_delivered_once(token)
    finally:
        cdp.close()
    # Nothing waits any more: the credentials are gone from storage, and a new page sends nothing again.
    d.get(APP)
    sign_in(d)
    d.wait_for("the send grant deleted", lambda: d.run(COUNT_GRANTS) == 0, 30)
    open_outbox(d)
    d.wait_for("the job shown as sent", lambda: "sent" in job_states(d, token), 30)
    assert len(arrived(token)) == 1, "delivered again by the new page"
    return "worker stopped, Background Sync fired: sent once from the stored grant, grant deleted"


def sent_when_petrel_is_next_opened(d):
    """Where the browser has no Background Sync (Firefox, WebKit), nothing wakes the worker once it
    has stopped: mail still waiting is sent when Petrel is opened again, once and only once."""
    token = "e2e-bg-reopen-%d" % int(time.time() * 1000)
    d.get(APP)
    sign_in(d)
    queue_and_close(d, token)
    proxy("/up")
    d.get(APP)
    sign_in(d)
    assert_delivered_once(token)
    open_outbox(d)
    d.wait_for("the job shown as sent", lambda: "sent" in job_states(d, token), 30)
    d.wait_for("the send grant deleted", lambda: d.run(COUNT_GRANTS) == 0, 30)
    return "no Background Sync here: mail left waiting was sent once Petrel was opened again"


def switched_off_nothing_is_stored(d):
    """Settings > "Finish sending after Petrel is closed" off: mail waiting for the server leaves
    no credentials on the device; the page itself sends once the server is back."""
    token = "e2e-bg-off-%d" % int(time.time() * 1000)
    d.element("#settings-button").click()
    box = d.element("#pref-send-after-close")
    assert d.run("return document.getElementById('pref-send-after-close').checked"), "on by default"
    # The setting says what this browser can do with it: found at run time, not by its name.
    has_sync = d.run("return 'SyncManager' in self")
    said = bool(d.find("#send-after-close-support"))
    assert said == (not has_sync), "Settings tell of the missing Background Sync exactly where it is missing (has it: %s)" % has_sync
    box.click()
    d.wait_for("the setting off", lambda: d.run("return !document.getElementById('pref-send-after-close').checked"), 10)
    proxy("/down")
    try:
        send(d, token)
        open_outbox(d)
        # The first attempt failed against the closed port: the mail waits, nothing is stored.
        d.wait_for("a failed attempt", lambda: "queued" in job_states(d, token) and d.run(
            "return [...document.querySelectorAll('.outbox-job')].some(r => r.innerText.includes(arguments[0]) && r.innerText.includes('Waiting for the server'))", token), 60)
        assert d.run(COUNT_GRANTS) == 0, "a send grant was stored with the setting off"
        said = bool(d.find("#outbox-after-close"))
        assert said == (not has_sync), "the outbox asks to keep a tab open exactly where nothing sends in the background (has it: %s)" % has_sync
    finally:
        proxy("/up")
    assert_delivered_once(token)
    d.element("#settings-button").click()
    d.element("#pref-send-after-close").click()
    d.wait_for("the setting back on", lambda: d.run("return document.getElementById('pref-send-after-close').checked"), 10)
    return "setting off: no grant stored while the mail waited; sent by the page"


def main():
    proxy("/clear")
    proxy("/up")
    d = Driver()
    failures = 0
    try:
        d.get(APP)
        sign_in(d)
        for journey in (reload_in_the_middle_of_a_send, two_tabs, undo_from_the_undo_bar,
                        switched_off_nothing_is_stored, page_hands_over_to_the_service_worker,
                        # Background Sync (and the DevTools that fire it) are Chromium's alone.
                        background_sync_wakes_a_restarted_worker if d.engine == "chromium" else sent_when_petrel_is_next_opened):
            # A journey that failed with the server cut off must not leave it cut off for the next.
            proxy("/up")
            failures += not run_journey(d, journey.__name__, journey, os.path.join(ARTIFACTS, "failed-%s.png" % journey.__name__))
    finally:
        d.quit()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
