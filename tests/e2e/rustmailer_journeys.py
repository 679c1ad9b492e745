#!/usr/bin/env python3
"""End-to-end RustMailer journeys: the release app served by the gateway, in headless Chromium, signed
in to a RustMailer account through the sign-in form (gateway URL + token), against the RustMailer
stand-in behind the gateway's gRPC-web translation. Mail is counted where the stand-in "sends" it.

Env: PETREL_TEST_GATEWAY (the app and gRPC-web), PETREL_TEST_RUSTMAILER_TOKEN,
PETREL_TEST_RUSTMAILER_CONTROL (the stand-in's control port), PETREL_E2E_ARTIFACTS (screenshots).
"""
import json
import os
import sys
import time
import traceback
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from composer import compose_and_send  # noqa: E402
from webdriver import Driver, wait  # noqa: E402

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


def sign_in(d):
    d.get(APP + "/")
    d.element("#sign-in")
    d.run("const s = document.getElementById('server-kind'); s.value = 'rustmailer'; s.dispatchEvent(new Event('change'));")
    server = d.element("#server")
    server.clear()
    server.type(APP)
    account = d.element("#username")
    account.clear()
    account.type("alice@example.org")
    d.element("#password").type(TOKEN)
    d.screenshot(os.path.join(ARTIFACTS, "rustmailer-sign-in.png"))
    d.element("#sign-in-button").click()
    d.element(".shell[data-connection=live]", timeout=60)


def row_subjects(d):
    return d.run("return [...document.querySelectorAll('.message-row .subject')].map(e => e.textContent)")


def reads_the_inbox(d):
    wait("the RustMailer inbox", lambda: any("Welcome to RustMailer" in s for s in row_subjects(d)), 30)
    assert "alice@example.org" in d.run("return document.querySelector('.account-name').textContent")
    d.screenshot(os.path.join(ARTIFACTS, "rustmailer-inbox.png"))


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


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    d = Driver()
    failed = []
    try:
        sign_in(d)
        for journey in (reads_the_inbox, sends_exactly_once, undo_takes_the_task_back, a_bounce_reported_later_is_shown):
            try:
                journey(d)
                print("ok   %s" % journey.__name__)
            except Exception:
                failed.append(journey.__name__)
                print("FAIL %s" % journey.__name__)
                traceback.print_exc()
                d.screenshot(os.path.join(ARTIFACTS, "failed-%s.png" % journey.__name__))
    finally:
        d.quit()
    if failed:
        sys.exit("RustMailer journeys failed: %s" % ", ".join(failed))


if __name__ == "__main__":
    main()
