#!/usr/bin/env python3
"""End-to-end RustMailer journeys: the release app served by the gateway, in headless Chromium, signed
in to a RustMailer account through the sign-in form (gateway URL + token), against the RustMailer
stand-in behind the gateway's gRPC-web translation. Mail is counted where the stand-in "sends" it.

Env: PETREL_TEST_GATEWAY (the app and gRPC-web), PETREL_TEST_RUSTMAILER_TOKEN,
PETREL_TEST_RUSTMAILER_CONTROL (the stand-in's control port), PETREL_E2E_ARTIFACTS (screenshots).
scripts/test runs them once per RustMailer wire the stand-in speaks (the revision, and 1.6.0).
"""
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from composer import compose_and_send  # noqa: E402
from webdriver import Driver, run_journey, wait  # noqa: E402

APP = os.environ["PETREL_TEST_GATEWAY"]
TOKEN = os.environ["PETREL_TEST_RUSTMAILER_TOKEN"]
CONTROL = os.environ["PETREL_TEST_RUSTMAILER_CONTROL"]
ARTIFACTS = os.environ.get("PETREL_E2E_ARTIFACTS", "target/e2e")


def control(path):
    request = urllib.request.Request(CONTROL + path, data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def sent(token):
    return [m for m in control("/sent") if token in (m.get("subject") or "")]


def sign_in(d, account_name="alice@example.org"):
    d.get(APP + "/")
    d.element("#sign-in")
    d.run("const s = document.getElementById('server-kind'); s.value = 'rustmailer'; s.dispatchEvent(new Event('change'));")
    server = d.element("#server")
    server.clear()
    server.type(APP)
    account = d.element("#username")
    account.clear()
    account.type(account_name)
    d.element("#password").type(TOKEN)
    d.screenshot(os.path.join(ARTIFACTS, "rustmailer-sign-in.png"))
    d.element("#sign-in-button").click()
    d.element(".shell[data-connection=live]", timeout=60)


def row_subjects(d):
    return d.run("return [...document.querySelectorAll('.message-row .subject')].map(e => e.textContent)")


def reads_the_inbox(d):
    wait("the RustMailer inbox", lambda: any("Welcome to RustMailer" in s for s in row_subjects(d)), 30)
    assert "alice@example.org" in d.run("return document.querySelector('.account-name').textContent")
    # RustMailer's gzipped messages reach the browser inflated by the gateway and HTTP-compressed:
    # smaller on the wire than decoded (the app itself has no gzip decoder).
    calls = d.run("return performance.getEntriesByType('resource').filter(e => e.name.includes('/rustmailer.grpc.'))"
                  ".map(e => [e.name.split('/').pop(), e.encodedBodySize, e.decodedBodySize])")
    assert any(encoded and encoded < decoded for _, encoded, decoded in calls), "no call came compressed: %s" % calls
    d.screenshot(os.path.join(ARTIFACTS, "rustmailer-inbox.png"))


def open_folder(d, name):
    d.element(".mailbox[data-name='%s'] .mailbox-button" % name).click()


def open_inbox(d):
    d.element(".mailbox[data-role=inbox] .mailbox-button").click()


def reads_a_conversation(d):
    # The inbox lists conversations (ListThreads pages by cursor or, on 1.6.0, by page number);
    # opening one asks for its messages by the thread id its envelope gave.
    opened = d.run("const r = [...document.querySelectorAll('.message-row')].find(r => r.querySelector('.subject').textContent === 'Re: Quarterly report');"
                   " if (!r) return false; r.querySelector('.message-open').click(); return true")
    assert opened, "the Quarterly report conversation is listed: %s" % row_subjects(d)
    wait("the conversation's messages", lambda: len(d.find(".conversation-item")) >= 2, 30)
    wait("the reply's text", lambda: "Numbers look good" in d.run("return document.querySelector('.reader').innerText"), 30)
    d.screenshot(os.path.join(ARTIFACTS, "rustmailer-conversation.png"))
    # RustMailer hands out parts, not whole messages: no source to show, so no control for it.
    assert not d.find("#view-source, #download-eml"), "no View source on RustMailer"
    d.run("document.activeElement && document.activeElement.blur()")
    d.keys("u")
    wait("reader closed", lambda: not d.find(".reader"), 10)


def an_answer_that_cannot_be_read_is_named_not_offline(d):
    # Every list call of the next few answers with bytes that are not protobuf.
    for method in ("ListThreads", "ListMessages"):
        control("/fault?method=%s&garble=before&count=4" % method)
    try:
        open_folder(d, "Bulk")
        text = wait("the list's error", lambda: d.run("const n = document.querySelector('.message-list .notice, .notice[role=alert]'); return n && n.textContent"), 30)
        assert "does not read" in text and ("ListThreads" in text or "ListMessages" in text), text
        assert not d.find(".offline-banner"), "an answer that cannot be read is not an outage"
        assert d.run("return document.querySelector('.shell').dataset.connection") == "live"
        d.screenshot(os.path.join(ARTIFACTS, "rustmailer-undecodable.png"))
    finally:
        control("/clear")
    open_inbox(d)
    wait("the inbox again", lambda: any("Welcome to RustMailer" in s for s in row_subjects(d)), 30)
    open_folder(d, "Bulk")
    wait("Bulk once answers read again", lambda: len(row_subjects(d)) > 10, 30)
    open_inbox(d)
    wait("back in the inbox", lambda: any("Welcome to RustMailer" in s for s in row_subjects(d)), 30)


def send(d, token):
    compose_and_send(d, "Carol <carol@example.org>", token, "Sent through RustMailer by the journey %s.\n" % token)


def sends_exactly_once(d):
    token = "rm-send-%d" % int(time.time() * 1000)
    send(d, token)
    # Held by RustMailer (send_at) for the undo window, then sent by its task.
    got = wait("%s sent by RustMailer" % token, lambda: sent(token), 60, every=0.25)
    tasks = [t for t in control("/tasks") if token in (t.get("subject") or "")]
    assert len(got) == 1, "%s sent %d times" % (token, len(got))
    assert len(tasks) == 1 and tasks[0]["status"] == "SUCCESS", tasks
    d.screenshot(os.path.join(ARTIFACTS, "rustmailer-sent.png"))


def undo_takes_the_task_back(d):
    token = "rm-undo-%d" % int(time.time() * 1000)
    send(d, token)
    d.element("#undo-send").click()
    wait("the task removed", lambda: [t for t in control("/tasks") if token in (t.get("subject") or "") and t["status"] == "REMOVED"], 30)
    # A control mail sent after it: once it is out, the undone one's time has passed too.
    after = "rm-after-%d" % int(time.time() * 1000)
    send(d, after)
    wait("%s sent" % after, lambda: sent(after), 60, every=0.25)
    assert not sent(token), "an undone mail was sent"


def a_bounce_reported_later_is_shown(d):
    # RustMailer takes the mail (the outbox marks it sent), then its relay bounces it: the event hook
    # reaches the page as SSE and the user is told which mail and why.
    token = "rm-bounce-%d" % int(time.time() * 1000)
    compose_and_send(d, "someone@nowhere.invalid", token, "This one bounces.\n")
    text = wait("the bounce shown", lambda: d.run("const e = document.querySelector('.info'); return e && e.textContent.includes('%s') ? e.textContent : null" % token), 60, every=0.25)
    assert "could not deliver" in text and "550" in text, text
    d.screenshot(os.path.join(ARTIFACTS, "rustmailer-bounce.png"))


def open_row(d, subject):
    wait("a row %r" % subject, lambda: any(subject in s for s in row_subjects(d)), 30)
    d.run("const r = [...document.querySelectorAll('.message-row')].find(r => r.querySelector('.subject').textContent.includes(arguments[0]));"
          "r.querySelector('.message-open').click();", subject)


def reader_chips(d):
    return d.run("return [...document.querySelectorAll('.message-view .label-chip')].map(c => c.textContent)")


def labels_through_custom_flags(d):
    """Alice's server keeps flags of the client's naming (`\\*` in PERMANENTFLAGS): a label set in
    Petrel is a custom flag there, read back after a reload. Bob's keeps none: no label control."""
    open_inbox(d)
    open_row(d, "Welcome to RustMailer")
    d.element(".message-view .label", timeout=30).click()
    d.element("#label-new-name", timeout=10).type("Travel")
    d.element("#label-new-add").click()
    d.element("#labels-close").click()
    wait("the chip", lambda: reader_chips(d) == ["Travel"], 30)
    sign_in(d)
    open_row(d, "Welcome to RustMailer")
    wait("the label read back from RustMailer's flags", lambda: reader_chips(d) == ["Travel"], 30)
    d.screenshot(os.path.join(ARTIFACTS, "rustmailer-label.png"))
    sign_in(d, "bob@example.org")
    open_row(d, "Lunch?")
    d.element(".message-view .reply", timeout=30)
    assert not d.find(".message-view .label"), "no label control where the server keeps no custom flags"
    sign_in(d)


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    d = Driver()
    failed = []
    try:
        sign_in(d)
        for journey in (reads_the_inbox, reads_a_conversation, an_answer_that_cannot_be_read_is_named_not_offline, sends_exactly_once, undo_takes_the_task_back, a_bounce_reported_later_is_shown, labels_through_custom_flags):
            if not run_journey(d, journey.__name__, journey, os.path.join(ARTIFACTS, "failed-%s.png" % journey.__name__)):
                failed.append(journey.__name__)
    finally:
        d.quit()
    if failed:
        sys.exit("RustMailer journeys failed: %s" % ", ".join(failed))


if __name__ == "__main__":
    main()
