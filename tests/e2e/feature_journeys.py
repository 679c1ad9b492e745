#!/usr/bin/env python3
"""End-to-end journeys of what a daily webmail user reaches for beyond reading and writing (issue
22): "not spam", the storage quota, the print view, unsubscribe, text and PDF previews, read receipts,
labels, snooze, filters (proved by real delivery: LMTP into Cyrus, SMTP into Stalwart). The release app through the gateway, in each
engine, against real Cyrus or Stalwart; mail seeded through JMAP under a fresh token, server state
checked through JMAP (and, for the quota, Cyrus's IMAP admin).

Env: as ui_journeys.py (whose helpers these share), plus SERVER and IMAP_PORT (the rig's server.env).
"""
import base64
import http.server
import math
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from ui_journeys import (  # noqa: E402
    ARTIFACTS, ENTER, GATEWAY, PASSWORD, TOKEN, USER, Seeder, frame_ready, key, message, open_folder, row, search_for, shot, sign_in, sink_eml,
    sink_messages, when)
from webdriver import fill_sign_in, run_journeys_in_one_browser, wait  # noqa: E402
from accessibility import audit  # noqa: E402
import mailserver  # noqa: E402  (scripts/mailserver, on the path through ui_journeys)

SERVER = os.environ.get("PETREL_TEST_SERVER", os.environ.get("SERVER", "cyrus"))
SPAM = "%s Cheap watches" % TOKEN
PRINTED = "%s Offsite agenda" % TOKEN
NEWSLETTER = "%s Weekly deals" % TOKEN
LIST_BY_MAIL = "%s Garden club news" % TOKEN
HOSTILE_LIST = "%s Hostile list" % TOKEN
NEWSLETTER_FROM = "deals-%s@shop.example.com" % TOKEN
WITH_TEXT = "%s Meeting notes attached" % TOKEN
RECEIPT_ASKED = ["%s Please confirm %s" % (TOKEN, n) for n in ("one", "two", "three")]
DIGEST_FROM = "digest-%s@lists.example.com" % TOKEN
DIGEST = "%s Digest of the week" % TOKEN
DIGEST_FOLDER = "%s Digests" % TOKEN
PEST_FROM = "pest-%s@spam.example.net" % TOKEN
PEST = "%s Buy now" % TOKEN
TRIP = ["%s Flight to Lisbon" % TOKEN, "%s Hotel in Lisbon" % TOKEN]
SNOOZE = ["%s Call the plumber" % TOKEN, "%s Renew the passport" % TOKEN]


class OneClickList:
    """A list's one-click unsubscribe address (RFC 8058): https on 127.0.0.1 with a certificate
    made for the run (the browsers accept it: acceptInsecureCerts), recording each request."""

    def __init__(self):
        self.requests = []
        requests = self.requests
        work = tempfile.mkdtemp(prefix="petrel-list-")
        cert, key_file = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key_file, "-out", cert,
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                requests.append({"method": "POST", "path": self.path, "body": self.rfile.read(length).decode(),
                                 "cookie": self.headers.get("Cookie"), "referer": self.headers.get("Referer")})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                requests.append({"method": "GET", "path": self.path})
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<p>You are unsubscribed.</p>")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key_file)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def hostile_pdf(text, beacon):
    """A one-page PDF that tries, on opening, to make the viewer fetch `beacon` (its JavaScript
    open action): a preview must show the page and run nothing."""
    stream = b"BT /F1 24 Tf 20 100 Td (" + text.encode() + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Action /S /JavaScript /JS (app.launchURL\\('" + beacon.encode() + b"', true\\); this.getURL\\('"
        + beacon.encode() + b"'\\);) >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


# Three days back: this suite's mail sorts below the UI journeys' (they find theirs among the Inbox's
# first rows in later engines); these journeys open theirs by searching.
DAYS_AGO = 3 * 24 * 60


def seed(seeder, one_click):
    inbox = seeder.roles["inbox"]
    notes = "Notes for %s\n<script>document.title='ran'</script>\n<img src=x onerror=alert(1)>\n" % TOKEN
    body = ("--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNotes attached.\r\n"
            "--b1\r\nContent-Type: text/plain; charset=utf-8; name=notes.txt\r\n"
            "Content-Disposition: attachment; filename=notes.txt\r\n\r\n" + notes +
            "\r\n--b1\r\nContent-Type: application/pdf; name=report.pdf\r\nContent-Disposition: attachment; filename=report.pdf\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" +
            base64.encodebytes(hostile_pdf("Quarterly report " + TOKEN, one_click.url + "/pdf-ran")).decode().replace("\n", "\r\n") +
            "--b1--\r\n")
    for i, subject in enumerate(RECEIPT_ASKED):
        seeder.put(message("Rita Asker <rita@example.com>", USER, subject, when(DAYS_AGO + 8 + i), "Did you get this?\n",
                           "%s-receipt-%d" % (TOKEN, i), "Disposition-Notification-To: Rita Asker <rita@example.com>\r\n"),
                   inbox, {}, DAYS_AGO + 8 + i)
    seeder.put(message("Ann Lee <ann@example.com>", USER, WITH_TEXT, when(DAYS_AGO + 7), body, TOKEN + "-notes",
                       content_type='multipart/mixed; boundary="b1"'), inbox, {"$seen": True}, DAYS_AGO + 7)
    for i in range(2):
        headers = ("List-Id: <deals.shop.example.com>\r\nList-Unsubscribe: <mailto:leave@shop.example.com>, <%s/u/%s>\r\n"
                   "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" % (one_click.url, TOKEN))
        seeder.put(message("Shop Deals <%s>" % NEWSLETTER_FROM, USER, NEWSLETTER if i == 0 else NEWSLETTER + " (older)",
                           when(DAYS_AGO + 3 + i * 60), "This week's deals.\n", "%s-deals-%d" % (TOKEN, i), headers), inbox, {}, DAYS_AGO + 3 + i * 60)
    by_mail = "List-Unsubscribe: <mailto:leave-%s@garden.example.org?subject=unsubscribe%%20%s>\r\n" % (TOKEN, TOKEN)
    seeder.put(message("Garden Club <news@garden.example.org>", USER, LIST_BY_MAIL, when(DAYS_AGO + 4), "Tomatoes!\n",
                       TOKEN + "-garden", by_mail), inbox, {}, DAYS_AGO + 4)
    hostile = "List-Unsubscribe: <javascript:alert(document.domain)>, <data:text/html,<script>alert(1)</script>>\r\n"
    seeder.put(message("Evil List <evil@example.net>", USER, HOSTILE_LIST, when(DAYS_AGO + 6), "Click nothing.\n", TOKEN + "-evil",
                       hostile), inbox, {}, DAYS_AGO + 6)
    seeder.put(message("Watch Deals <deals@example.com>", USER, SPAM, when(DAYS_AGO + 5), "Real mail, filed as spam by mistake.\n",
                       TOKEN + "-spam"), seeder.roles["junk"], {"$junk": True}, DAYS_AGO + 5)
    first = TOKEN + "-agenda-0"
    seeder.put(message("Ann Lee <ann@example.com>", USER, PRINTED, when(DAYS_AGO + 20), "Agenda: roadmap, budget, lunch.\n", first),
               seeder.roles["inbox"], {"$seen": True}, DAYS_AGO + 20)
    html = ("<html><body><h2>Printed in full</h2><p>Second message, <b>formatted</b>.</p>"
            "<script>document.title='ran'</script></body></html>")
    seeder.put(message("Bo Chen <bo@example.com>", USER, "Re: " + PRINTED, when(DAYS_AGO + 10), html, TOKEN + "-agenda-1",
                       "In-Reply-To: <%s@demo.petrel>\r\nReferences: <%s@demo.petrel>\r\n" % (first, first),
                       content_type="text/html; charset=utf-8"), seeder.roles["inbox"], {}, DAYS_AGO + 10)


def seed_labels(seeder):
    for i, subject in enumerate(TRIP):
        seeder.put(message("Travel Desk <travel@example.com>", USER, subject, when(DAYS_AGO + 40 + i), "Booked.\n",
                           "%s-trip-%d" % (TOKEN, i)), seeder.roles["inbox"], {"$seen": True}, DAYS_AGO + 40 + i)


def seed_snooze(seeder):
    for i, subject in enumerate(SNOOZE):
        seeder.put(message("Home <home@example.com>", USER, subject, when(DAYS_AGO + 45 + i), "Later.\n",
                           "%s-snooze-%d" % (TOKEN, i)), seeder.roles["inbox"], {"$seen": True}, DAYS_AGO + 45 + i)


def seed_filters(seeder):
    seeder.folder(DIGEST_FOLDER)
    seeder.put(message("Weekly Digest <%s>" % DIGEST_FROM, USER, DIGEST, when(DAYS_AGO + 30), "This week, in short.\n",
                       TOKEN + "-digest"), seeder.roles["inbox"], {"$seen": True}, DAYS_AGO + 30)
    seeder.put(message("Pest <%s>" % PEST_FROM, USER, PEST, when(DAYS_AGO + 31), "Unwanted.\n", TOKEN + "-pest"),
               seeder.roles["inbox"], {"$seen": True}, DAYS_AGO + 31)


def open_message(d, subject):
    """Opens the message by searching for it: the other suites' newer mail can push it out of the
    Inbox's rows in view (only those exist in the virtualized list)."""
    search_for(d, subject)
    row(d, subject).click()


def folder_name(seeder, role):
    """The name a folder has on this server ("Junk", or Stalwart's "Junk Mail")."""
    return next(name for name, mailbox_id in seeder.names.items() if mailbox_id == seeder.roles[role])


def keywords(seeder, email_id):
    return {k for k, on in (seeder.mailboxes_of(email_id) or {}).get("keywords", {}).items() if on}


def journey_not_spam(d, seeder):
    """From Junk, "Not spam" puts the mail back in the Inbox and marks it `$notjunk` (no longer
    `$junk`); reporting it again (the `!` key) files it in Junk marked `$junk`."""
    [spam_id] = seeder.search(SPAM)
    open_folder(d, folder_name(seeder, "junk"))
    row(d, SPAM).click()
    button = d.wait_for("the reader's Not spam button", lambda: [b for b in d.find(".message-view .spam") if b.text == "Not spam"], 30)
    shot(d, "features-junk.png")
    button[0].click()
    wait("in the Inbox on the server, $notjunk", lambda: seeder.mailboxes_of(spam_id)["mailboxIds"] == {seeder.roles["inbox"]: True}
         and keywords(seeder, spam_id) >= {"$notjunk"} and "$junk" not in keywords(seeder, spam_id), 30)
    d.wait_for("the status says so", lambda: "not spam" in (d.run("return document.body.innerText") or ""), 10)
    open_message(d, SPAM)
    d.wait_for("the reader offers Spam in the Inbox", lambda: [b for b in d.find(".message-view .spam") if b.text == "Spam"], 30)
    d.run("document.activeElement && document.activeElement.blur()")
    key(d, "!")
    wait("back in Junk on the server, $junk", lambda: seeder.mailboxes_of(spam_id)["mailboxIds"] == {seeder.roles["junk"]: True}
         and "$junk" in keywords(seeder, spam_id) and "$notjunk" not in keywords(seeder, spam_id), 30)


def quota_on_server(seeder):
    for capability in ("urn:ietf:params:jmap:quota", "https://cyrusimap.org/ns/jmap/quota"):
        if capability in seeder.jmap.session["capabilities"]:
            got = seeder.jmap.call(["Quota/get", {"accountId": seeder.jmap.account, "ids": None}], using=[capability])[0]
            for q in got["list"]:
                limit = q.get("hardLimit", q.get("total"))
                if q.get("resourceType", "octets") == "octets" and limit:
                    return q["used"], limit
    return None


def journey_quota(d, seeder):
    """The folder pane shows the storage the server reports (the rig's 100 MB limit) and warns
    from 90%."""
    open_folder(d, "Inbox")
    reported = quota_on_server(seeder)
    # Both rigs set one: Cyrus by IMAP SETQUOTA, Stalwart on the principal (mailserver.py).
    assert reported, "the %s rig sets a quota" % SERVER
    used, limit = reported
    text = d.wait_for("the quota meter", lambda: d.find("#quota .quota-text"), 30)[0].text
    assert text.endswith("of 100.0 MB used"), text
    assert not d.find(".quota-warning"), "no warning at %d of %d bytes" % (used, limit)
    # Cyrus's quota is set over IMAP, Stalwart's through its admin API (on the JMAP port).
    admin_port = int(os.environ["IMAP_PORT"] if SERVER == "cyrus" else os.environ["JMAP_PORT"])
    # Nearly full: a 100 KB message arrives under a limit just above what is then stored (Cyrus
    # counts whole KiB, and the upload itself until it is imported; 4 KiB spare); the folders
    # change, and with them the meter.
    raw = message("Cleo Park <cleo@example.com>", USER, "%s Nearly full" % TOKEN, when(1), "One more line.\n" * 7000,
                  TOKEN + "-full")
    blob = seeder.jmap.upload(raw)
    used_now, _ = quota_on_server(seeder)
    mailserver.set_quota(admin_port, USER, math.ceil((used_now + len(raw) + 4096) / 1024), SERVER)
    try:
        seeder.jmap.call(["Email/import", {"accountId": seeder.jmap.account, "emails": {
            "e": {"blobId": blob, "mailboxIds": {seeder.roles["inbox"]: True},
                  "receivedAt": when(DAYS_AGO).strftime("%Y-%m-%dT%H:%M:%SZ")}}}])
        warning = d.wait_for("the warning", lambda: d.find(".quota-warning"), 30)[0].text
        assert "full" in warning and "%" in warning, warning
        shot(d, "features-quota-warning.png")
        problems = audit(d, "quota warning")
        assert not problems, "\n".join(problems)
    finally:
        mailserver.set_quota(admin_port, USER, mailserver.DEMO_QUOTA_KIB, SERVER)
        # The big message goes, so the next engine's run starts from the same use.
        found = seeder.search("%s Nearly full" % TOKEN)
        if found:
            seeder.jmap.call(["Email/set", {"accountId": seeder.jmap.account, "destroy": found}])


# The rules that hide the app when printing: an element they match is not on paper.
PRINT_HIDES = """
const rules = [];
for (const sheet of document.styleSheets) {
  for (const rule of sheet.cssRules) {
    if (rule.media && [...rule.media].includes('print')) {
      for (const inner of rule.cssRules) if (inner.style && inner.style.display === 'none') rules.push(inner.selectorText);
    }
  }
}
const hidden = el => rules.some(sel => el.closest(sel.split(',').map(s => s.trim()).join(',')) !== null);
return {
  chrome: [...document.querySelectorAll('.topbar, .folders, .content')].map(hidden),
  view: hidden(document.querySelector('.print-view')),
  tools: hidden(document.querySelector('.print-tools')),
};
"""


def journey_print(d, seeder):
    """"Print" shows the whole conversation as it prints (headers and bodies, HTML in its
    sandboxed frame, scripts off); the print rules leave only that view on paper; Print calls the
    browser's print; Close returns to the reader."""
    open_message(d, PRINTED)
    d.element("#print-open", timeout=30).click()
    d.element(".print-view[data-ready=true]", timeout=30)
    printed = d.find(".printed-message")
    assert len(printed) == 2, "both messages of the conversation: %d" % len(printed)
    assert "Agenda: roadmap, budget, lunch." in printed[0].text, printed[0].text
    assert "Ann Lee" in printed[0].text and "Bo Chen" in printed[1].text
    frame_ready(d, d.run("return [...document.querySelectorAll('iframe.mail-frame')].indexOf(document.querySelector('.print-frame'))"))
    body = d.run("const f = document.querySelector('.print-frame'); return f.contentDocument.body.innerText")
    assert "Printed in full" in body, body
    assert d.run("return document.querySelector('.print-frame').getAttribute('sandbox')") == "allow-same-origin"
    assert d.run("return document.querySelector('.print-frame').contentDocument.title") != "ran", "no script ran"
    hides = d.run(PRINT_HIDES)
    assert all(hides["chrome"]) and not hides["view"] and hides["tools"], "on paper only the view: %s" % hides
    shot(d, "features-print-view.png")
    problems = audit(d, "print view")
    assert not problems, "\n".join(problems)
    # The browser's print dialog is the browser's: counted, not opened.
    d.run("window.__printed = 0; window.print = () => { window.__printed += 1; };")
    d.element("#print-now").click()
    assert d.run("return window.__printed") == 1
    d.element("#print-close").click()
    d.wait_for("the print view closed", lambda: not d.find(".print-view"), 10)
    assert d.run("return document.activeElement && document.activeElement.id") == "print-open", "focus back on Print"


def journey_unsubscribe(d, seeder, one_click):
    """One-click (RFC 8058) after a confirmation, with everything from the sender to Trash; a
    list that offers only mail opens the unsubscribe mail, which the outbox sends; a header with
    only javascript: and data: addresses offers nothing and says why."""
    open_message(d, NEWSLETTER)
    d.element("#unsubscribe", timeout=30).click()
    said = d.element(".list-bar p").text
    assert "127.0.0.1" in said and "one click" in said, said
    assert not one_click.requests, "nothing happens before the confirmation"
    d.element("#unsubscribe-trash").click()
    shot(d, "features-unsubscribe-confirm.png")
    d.element("#unsubscribe-confirm").click()
    posted = wait("the one-click POST", lambda: [r for r in one_click.requests if r["method"] == "POST"], 30)
    assert posted[0]["path"] == "/u/" + TOKEN and posted[0]["body"] == "List-Unsubscribe=One-Click", posted
    assert not posted[0]["cookie"] and not posted[0]["referer"], "no cookies, no referrer: %s" % posted
    d.wait_for("the status says so", lambda: "unsubscribe you" in d.run("return document.body.innerText"), 30)
    ids = seeder.search(NEWSLETTER)
    assert len(ids) == 2, ids
    wait("everything from the sender in Trash", lambda: all(
        seeder.mailboxes_of(i)["mailboxIds"] == {seeder.roles["trash"]: True} for i in ids), 30)
    assert len([r for r in one_click.requests if r["method"] == "POST"]) == 1, "asked once"
    assert d.find("#undo-action"), "the move to Trash can be undone"

    open_message(d, LIST_BY_MAIL)
    d.element("#unsubscribe", timeout=30).click()
    assert "leave-%s@garden.example.org" % TOKEN in d.element(".list-bar p").text
    d.element("#unsubscribe-confirm").click()
    d.wait_for("the unsubscribe mail in the composer", lambda: d.find("#compose-send"), 30)
    d.wait_for("the status says so", lambda: "unsubscribe mail is ready" in d.element(".status-text").text, 10)
    assert not d.find("#undo-action"), "a newer status line ends the older action's Undo"
    d.element("#compose-send").click()
    mail = wait("the unsubscribe mail at the sink", lambda: sink_messages("unsubscribe " + TOKEN), 60, every=0.25)
    parsed = sink_eml(mail[0])
    assert ("leave-%s@garden.example.org" % TOKEN) in parsed["To"], parsed["To"]

    open_message(d, HOSTILE_LIST)
    note = d.wait_for("the list note", lambda: d.find(".list-bar"), 30)[0].text
    assert "no address Petrel can use" in note and "javascript" in note, note
    assert not d.find("#unsubscribe"), "no control that cannot work"
    shot(d, "features-unsubscribe-hostile.png")


def journey_text_attachment(d):
    """A text attachment previewed as text, after the SHA-256 check: its markup shows as characters
    and nothing in it runs."""
    open_message(d, WITH_TEXT)
    d.wait_for("the attachment", lambda: d.find('.attachment[data-name="notes.txt"] .preview'), 30)[0].click()
    text = d.element(".attachment-text", timeout=30).text
    assert "Notes for " + TOKEN in text and "<script>document.title='ran'</script>" in text, text
    assert not d.find(".attachment-text script, .attachment-text img"), "markup stays text"
    assert d.run("return document.title") != "ran"
    shot(d, "features-text-attachment.png")


def journey_pdf_attachment(d, one_click):
    """A PDF attachment shown by the browser's own viewer after the SHA-256 check: in a sandboxed
    frame where the engine's viewer runs in one (Firefox); else, said so, in a tab of its own
    (Chromium and WebKit refuse any sandboxed frame). The PDF's script, which would fetch a beacon
    on opening, never reaches it."""
    open_message(d, WITH_TEXT)
    d.wait_for("the attachment", lambda: d.find('.attachment[data-name="report.pdf"] .preview'), 30)[0].click()
    shown = d.wait_for("the PDF preview", lambda: d.find(".attachment-pdf, .attachment-pdf-open a"), 30)[0]
    assert shown.attribute("href" if d.engine != "firefox" else "src").startswith("blob:"), "the verified copy, as a blob"
    if d.engine == "firefox":
        assert shown.attribute("sandbox") == "allow-scripts", "sandboxed: no same origin, no popups, no navigation"
        # Into the frame: pdf.js's text layer holds the page's text once it is drawn.
        d.cmd("POST", "/frame", {"id": {"element-6066-11e4-a52e-4f735466cecf": shown.id}})
        page_text = "return (document.querySelector('.textLayer') || {}).textContent || ''"
        d.wait_for("the page drawn in the frame", lambda: "Quarterly report" in d.run(page_text), 30)
        d.cmd("POST", "/frame/parent")
        shot(d, "features-pdf-preview.png")
        beacon_silent(one_click)
    else:
        assert "noopener" in shown.attribute("rel"), "the tab gets no handle on Petrel"
        assert "tab of their own" in d.element(".attachment-pdf-open").text
        shot(d, "features-pdf-open.png")
        petrel, before = d.current_tab(), set(d.tabs())
        shown.click()
        [tab] = d.wait_for("the PDF's own tab", lambda: list(set(d.tabs()) - before), 30)
        d.switch_to(tab)
        d.wait_for("the PDF loaded", lambda: d.cmd("GET", "/url").startswith("blob:"), 30)
        if d.engine != "webkit":  # a WebKit tab opened by a link stays hidden: no screenshot returns
            # Chromium's viewer draws out of WebDriver's reach: its empty dark page is a ~5 KB PNG,
            # one with the page drawn four times that.
            d.wait_for("the page drawn", lambda: len(d.cmd("GET", "/screenshot")) > 13000, 30)
            shot(d, "features-pdf-tab.png")
        beacon_silent(one_click)
        d.close_tab()
        d.switch_to(petrel)


def beacon_silent(one_click):
    """The PDF's open action runs as its viewer loads it: while it is open, a beacon would arrive
    within a moment. (The sandbox is the guard; this checks it held.)"""
    deadline = time.time() + 3
    while time.time() < deadline:
        assert not [r for r in one_click.requests if r["path"].startswith("/pdf-ran")], "the PDF's script ran"
        time.sleep(0.25)


def receipt_report(recipient, original_message_id, n):
    """A read receipt as a mail program sends one (RFC 8098; Cyrus's MDN/send writes this shape,
    without References): the only link to the original is the report's Original-Message-ID."""
    body = ("--r1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour message was displayed.\r\n"
            "--r1\r\nContent-Type: message/disposition-notification\r\n\r\n"
            "Final-Recipient: rfc822; %s\r\nOriginal-Message-ID: %s\r\n"
            "Disposition: manual-action/MDN-sent-manually; displayed\r\n--r1--\r\n") % (recipient, original_message_id)
    return message(recipient, USER, "Read receipt", when(0), body, "%s-report-%d" % (TOKEN, n),
                   content_type='multipart/report; report-type=disposition-notification; boundary="r1"')


def receipts_came_back(d, seeder, subject, message_id):
    """The sent copy of the user's own mail that asked for a receipt asks nothing: it shows the
    receipts that came back, matched by Original-Message-ID (a report about other mail, or one
    from someone the mail never went to, is not shown)."""
    import datetime
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=30)
    # Filed in Archive: new mail at the Inbox's top would crowd later engines' UI journeys (DAYS_AGO).
    archive = seeder.roles["archive"]
    seeder.put(receipt_report("bob@example.org", message_id, 0), archive, {}, received=later)
    # Forged: about this message, from someone it never went to.
    seeder.put(receipt_report("carol@example.org", message_id, 1), archive, {}, received=later)
    seeder.put(receipt_report("bob@example.org", "<unrelated-%s@example.org>" % TOKEN, 2), archive, {}, received=later)
    wait("the sent copy on the server", lambda: seeder.search(subject), 30)
    open_message(d, subject)
    shown = d.wait_for("the receipts", lambda: [e for e in d.find(".receipts-received") if "Displayed to" in e.text], 30)[0].text
    assert "bob@example.org" in shown and "carol" not in shown, shown
    assert shown.count("Displayed to") == 1, "a report about other mail is not this one's: %s" % shown
    assert "asked for a read receipt" not in d.run("return document.body.innerText"), "the user's own mail asks nothing"
    shot(d, "features-receipts-received.png")


def journey_read_receipts(d, seeder):
    """Asking for one when sending puts Disposition-Notification-To in the mail; a mail asking for
    one asks the user: "Send receipt" sends an RFC 8098 report (where the server offers MDN/send:
    Cyrus, not Stalwart, which says so instead) and "Don't send" sends nothing; either marks it
    $mdnsent; with "Never send read receipts" on, nothing asks."""
    d.element("#compose-button").click()
    d.element("#compose-to").type("bob@example.org")
    d.element("#compose-subject").type("%s receipt wanted" % TOKEN)
    d.element("#compose-body").type("Tell me when you read this.")
    d.element("#compose-receipt").click()
    d.element("#compose-send").click()
    sent = wait("the mail at the sink", lambda: sink_messages("%s receipt wanted" % TOKEN), 60, every=0.25)
    sent_eml = sink_eml(sent[0])
    assert USER in (sent_eml["Disposition-Notification-To"] or ""), "the receipt goes to the sender"
    receipts_came_back(d, seeder, "%s receipt wanted" % TOKEN, sent_eml["Message-ID"])

    first, second, third = RECEIPT_ASKED
    [first_id] = seeder.search(first)
    open_message(d, first)
    bar = d.element(".receipt-bar", timeout=30).text
    assert "Rita Asker asked for a read receipt" in bar, bar
    shot(d, "features-receipt-asked.png")
    if "urn:ietf:params:jmap:mdn" in seeder.jmap.session["capabilities"]:
        d.element("#receipt-send").click()
        report = wait("the receipt at the sink", lambda: sink_messages("Read: " + first), 60, every=0.25)
        parsed = sink_eml(report[0])
        assert "rita@example.com" in parsed["To"], parsed["To"]
        assert parsed.get_content_type() == "multipart/report", parsed.get_content_type()
        assert parsed.get_param("report-type") == "disposition-notification"
    else:
        assert "cannot send one" in bar and not d.find("#receipt-send"), "no control that cannot work"
        d.element("#receipt-decline").click()
    wait("$mdnsent on the server", lambda: "$mdnsent" in keywords(seeder, first_id), 30)
    d.wait_for("the question gone", lambda: not d.find(".receipt-bar"), 30)

    [second_id] = seeder.search(second)
    open_message(d, second)
    d.element("#receipt-decline", timeout=30).click()
    wait("$mdnsent on the server", lambda: "$mdnsent" in keywords(seeder, second_id), 30)
    assert not sink_messages("Read: " + second), "declined: nothing sent"

    d.element("#settings-button").click()
    d.element("#pref-never-receipts").click()
    open_message(d, third)
    d.wait_for("the message", lambda: any("Did you get this?" in (e.text or "") for e in d.find(".plain-text")), 30)
    assert not d.find(".receipt-bar"), "never asks with the setting on"
    d.element("#settings-button").click()
    d.element("#pref-never-receipts").click()


def sieve_capability(seeder):
    offered = seeder.jmap.session["capabilities"]
    return next(c for c in ("urn:ietf:params:jmap:sieve", "https://cyrusimap.org/ns/jmap/sieve") if c in offered)


def activate_script(seeder, name, text):
    """Stores a script as another app would and makes it the active one."""
    blob = seeder.jmap.upload(text.encode())
    seeder.jmap.call(["SieveScript/set", {"accountId": seeder.jmap.account, "create": {"s": {"name": name, "blobId": blob}},
                                          "onSuccessActivateScript": "#s"}], using=[sieve_capability(seeder)])


def choose(d, css, value, index=0):
    """Picks `value` in the index-th <select> matching `css`, as a user's choice does (a change event)."""
    d.wait_for("%s #%d offering %s" % (css, index, value), lambda: d.run(
        "const s = document.querySelectorAll(arguments[0])[arguments[2]];"
        "return !!s && [...s.options].some(o => o.value === arguments[1]);", css, value, index), 30)
    d.run("const s = document.querySelectorAll(arguments[0])[arguments[2]]; s.value = arguments[1];"
          "s.dispatchEvent(new Event('change', {bubbles: true}));", css, value, index)


def set_text(d, css, text):
    """Replaces a text field's value, as typing would (an input event)."""
    d.run("const t = document.querySelector(arguments[0]); t.value = arguments[1];"
          "t.dispatchEvent(new Event('input', {bubbles: true}));", css, text)


def deliver_and_find(seeder, sender, subject, n):
    """Delivers a mail for real (the server's filters run) and returns it once stored."""
    mailserver.deliver(os.environ, USER, message(sender, USER, subject, when(0), "Delivered.\n", "%s-delivered-%d" % (TOKEN, n)))
    [found] = wait("%s delivered" % subject, lambda: seeder.search(subject), 60, every=0.25)
    return found


def shows(d, css, text):
    """Whether an element matching `css` shows `text` (one script: no handle goes stale)."""
    return d.run("return [...document.querySelectorAll(arguments[0])].some(e => e.innerText.includes(arguments[1]))", css, text)


def saved(d, said):
    d.wait_for("the status: %s" % said, lambda: said in (d.element(".filters-status").text or ""), 30)


def journey_filters(d, seeder):
    """A rule made from a message ("Filter like this") files mail that arrives by real delivery into
    its folder, read and labelled; the rules of a script made elsewhere keep running; the Sieve
    editor shows the server's error at its line and keeps hand-written Sieve; "Block sender" sends
    that sender's next mail to Trash."""
    other = "elsewhere-%s" % TOKEN
    activate_script(seeder, other, 'require ["imap4flags"];\nif header :contains "subject" "%s elsewhere" { addflag "$elsewhere"; }\n' % TOKEN)
    open_message(d, DIGEST)
    d.element(".message-view .filter-like", timeout=30).click()
    d.element(".rule-editor", timeout=30)
    assert d.run("return document.querySelector('.condition-value').value") == DIGEST_FROM, "the sender filled in"
    assert other in d.element(".other-script").text, "the other active script is named"
    set_text(d, "#rule-name", "Digests " + TOKEN)
    choose(d, ".action-folder", seeder.names[DIGEST_FOLDER])
    for i, kind in enumerate(["read", "label", "stop"], start=1):
        d.element("#rule-add-action").click()
        choose(d, ".action-kind", kind, i)
    d.wait_for("the label field", lambda: d.find(".action-value"), 10)
    set_text(d, ".action-value", "Reading list")
    shot(d, "features-filters-editor.png")
    d.element("#rule-save").click()
    saved(d, "The rule “Digests %s” is saved" % TOKEN)
    # The editor (and its Save button) closed: focus goes on to the line that says what happened.
    d.wait_for("focus on the saved line", lambda: d.run(
        "return !!document.activeElement && document.activeElement.classList.contains('filters-status')"), 10)
    d.wait_for("the rule listed", lambda: shows(d, ".rule", "Digests " + TOKEN), 30)
    d.wait_for("the other script kept (included)", lambda: not d.find(".other-script") and shows(d, ".included-script", other), 30)
    shot(d, "features-filters-list.png")
    problems = audit(d, "filters")
    assert not problems, "\n".join(problems)

    filed = deliver_and_find(seeder, "Weekly Digest <%s>" % DIGEST_FROM, "%s digest arrives" % TOKEN, 1)
    got = seeder.mailboxes_of(filed)
    assert got["mailboxIds"] == {seeder.names[DIGEST_FOLDER]: True}, got
    assert keywords(seeder, filed) >= {"$seen", "reading_list"}, keywords(seeder, filed)
    kept = deliver_and_find(seeder, "Someone <someone@example.com>", "%s elsewhere rule" % TOKEN, 2)
    assert "$elsewhere" in keywords(seeder, kept), "the other script's rule still runs"
    assert seeder.mailboxes_of(kept)["mailboxIds"] == {seeder.roles["inbox"]: True}

    # The Sieve editor: the server's error at its line, then hand-written Sieve kept beside the rules.
    d.element(".sieve-editor summary").click()
    script = d.run("return document.querySelector('#sieve-text').value")
    assert "# petrel-rule" in script and "Digests " + TOKEN in script, script
    added = ['if header :contains "subject" "%s by hand" {' % TOKEN, '  addflag "$byhand"', "}"]
    set_text(d, "#sieve-text", script.rstrip("\n") + "\n" + "\n".join(added) + "\n")
    d.element("#sieve-check").click()
    verdict = d.element(".sieve-error", timeout=30).text
    line = d.element(".sieve-line").text.strip()
    assert verdict.startswith("Line ") and line in (added[1].strip(), added[2]), (verdict, line)
    shot(d, "features-filters-sieve-error.png")
    added[1] += ";"
    set_text(d, "#sieve-text", script.rstrip("\n") + "\n" + "\n".join(added) + "\n")
    d.element("#sieve-save").click()
    saved(d, "The Sieve script is saved and active.")
    d.wait_for("the hand-written Sieve noted", lambda: shows(d, ".filters", "written by hand"), 30)
    d.wait_for("the rule still read back as a rule", lambda: shows(d, ".rule", "Digests " + TOKEN), 30)
    by_hand = deliver_and_find(seeder, "Someone <someone@example.com>", "%s by hand" % TOKEN, 3)
    assert "$byhand" in keywords(seeder, by_hand), "the hand-written Sieve runs"

    # Block sender
    open_message(d, PEST)
    d.element(".message-view .block-sender", timeout=30).click()
    d.wait_for("the block rule", lambda: "Block " + PEST_FROM in d.element(".rule-editor h3").text, 30)
    d.element("#rule-save").click()
    saved(d, "The rule “Block %s” is saved" % PEST_FROM)
    blocked = deliver_and_find(seeder, "Pest <%s>" % PEST_FROM, "%s again" % PEST, 4)
    assert seeder.mailboxes_of(blocked)["mailboxIds"] == {seeder.roles["trash"]: True}, seeder.mailboxes_of(blocked)
    assert "$seen" in keywords(seeder, blocked)
    # Delivered mail is dated now: gone, so it does not push the next engine's UI journeys' mail
    # out of the Inbox's first rows.
    seeder.jmap.call(["Email/set", {"accountId": seeder.jmap.account, "destroy": [kept, by_hand, blocked, filed]}])


def chips(d, css):
    return d.run("return [...document.querySelectorAll(arguments[0])].map(c => c.innerText.trim())", css + " .label-chip")


def journey_labels(d, seeder):
    """Two messages labelled at once (`l`, a new label), the chips on their rows; renamed and
    recoloured in Settings (the keyword stays); the folder pane's label lists them; one unlabelled
    from the reader; deleting the label takes it off the rest. Checked on the server's keywords."""
    ids = [seeder.search(subject)[0] for subject in TRIP]
    search = d.element("#search")
    search.clear()
    search.type("%s Lisbon%s" % (TOKEN, ENTER))
    for subject in TRIP:
        d.run("document.querySelector('.message-row[data-id=\"' + arguments[0] + '\"] .row-check').click()",
              row(d, subject).id)
    d.run("document.activeElement && document.activeElement.blur()")
    key(d, "l")
    d.element("#label-new-name", timeout=10).type("Travel")
    d.element("#label-new-add").click()
    wait("the keyword on both, on the server", lambda: all("travel" in keywords(seeder, i) for i in ids), 30)
    d.wait_for("the new label ticked", lambda: d.run(
        "const c = document.querySelector('.label-choice[data-keyword=\"travel\"]'); return !!c && c.checked"), 10)
    shot(d, "features-labels-dialog.png")
    problems = audit(d, "label picker")
    assert not problems, "\n".join(problems)
    d.element("#labels-close").click()
    d.wait_for("a chip on both rows", lambda: all(chips(d, '.message-row[data-id="%s"]' % i) == ["Travel"] for i in ids), 30)
    shot(d, "features-labels-rows.png")

    d.element("#settings-button").click()
    rename = d.element(".label-setting .label-rename")
    rename.clear()
    rename.type("Trips")
    d.run("const i = document.querySelector('.label-setting .label-rename'); i.dispatchEvent(new Event('change', {bubbles: true}));")
    d.wait_for("renamed", lambda: "Renamed to “Trips”" in d.element(".label-status").text, 10)
    choose(d, ".label-setting .label-colour", "4")
    d.wait_for("recoloured", lambda: d.find(".label-setting .label-chip.label-colour-4"), 10)
    shot(d, "features-labels-settings.png")

    d.wait_for("the label in the folder pane", lambda: [b for b in d.find(".label-nav-button") if b.text == "Trips"], 10)[0].click()
    d.wait_for("both in the label's list", lambda: all(d.find('.message-row[data-id="%s"]' % i) for i in ids), 30)
    assert all(chips(d, '.message-row[data-id="%s"]' % i) == ["Trips"] for i in ids), "the chips follow the rename"
    assert all("travel" in keywords(seeder, i) for i in ids), "a rename leaves the keyword"

    row(d, TRIP[0]).click()
    d.wait_for("the chip in the reader", lambda: chips(d, ".message-view") == ["Trips"], 30)
    d.element(".message-view .label").click()
    d.element('.label-choice[data-keyword="travel"]', timeout=10).click()
    wait("off the first, on the server", lambda: "travel" not in keywords(seeder, ids[0]), 30)
    assert "travel" in keywords(seeder, ids[1])
    d.element("#labels-close").click()

    d.element("#settings-button").click()
    d.element(".label-setting .label-delete").click()
    wait("off the second, on the server", lambda: "travel" not in keywords(seeder, ids[1]), 60)
    d.wait_for("no labels left", lambda: not d.find(".label-setting"), 10)


def snooze_for(d, seconds):
    """Snoozes the open message until `seconds` from now, through the picker's own time field."""
    d.element(".message-view .snooze", timeout=30).click()
    d.element("#snooze-time", timeout=10)
    d.run("const t = document.querySelector('#snooze-time'); const at = new Date(Date.now() + arguments[0] * 1000);"
          "const pad = n => String(n).padStart(2, '0');"
          "t.value = at.getFullYear() + '-' + pad(at.getMonth() + 1) + '-' + pad(at.getDate()) + 'T' + pad(at.getHours())"
          "  + ':' + pad(at.getMinutes()) + ':' + pad(at.getSeconds());"
          "t.dispatchEvent(new Event('input', {bubbles: true}));", seconds)
    d.element("#snooze-at").click()


def back_in_inbox_on_screen(d, subject):
    """The Inbox, searched as a user would, shows `subject` (searched again until it does)."""
    def shown():
        search = d.element("#search")
        search.clear()
        search.type("in:inbox %s%s" % (subject, ENTER))
        return d.run("return [...document.querySelectorAll('.message-row')].some(r => r.innerText.includes(arguments[0]))", subject)
    d.wait_for("%s back in the Inbox on screen" % subject, shown, 60)


def journey_snooze(d, seeder):
    """Snoozed mail leaves the Inbox and comes back at its time, while Petrel is open and after a
    reload: Cyrus does it (its `snoozed`, calalarmd); on Stalwart, Petrel (a Snoozed folder, the
    time in a keyword, woken by the page under the outbox's lock)."""
    inbox = seeder.roles["inbox"]
    first, second = [seeder.search(subject)[0] for subject in SNOOZE]

    def back(email_id):
        got = seeder.mailboxes_of(email_id)
        return got["mailboxIds"] == {inbox: True} and not any(k.startswith("$petrel-snoozed-") for k in got.get("keywords", {}))
    open_message(d, SNOOZE[0])
    d.element(".message-view .snooze", timeout=30).click()
    assert "Tomorrow morning (" in d.element("#snooze-tomorrow").text
    assert "Next week (" in d.element("#snooze-next-week").text
    shot(d, "features-snooze-dialog.png")
    problems = audit(d, "snooze picker")
    assert not problems, "\n".join(problems)
    d.element("#snooze-cancel").click()

    snooze_for(d, 20)
    wait("out of the Inbox on the server", lambda: inbox not in seeder.mailboxes_of(first)["mailboxIds"], 30)
    d.wait_for("the status", lambda: "Snoozed until" in (d.run("return document.body.innerText") or ""), 10)
    wait("back in the Inbox on the server, while open, without its time keyword", lambda: back(first), 90, every=0.5)
    back_in_inbox_on_screen(d, SNOOZE[0])

    open_message(d, SNOOZE[1])
    snooze_for(d, 20)
    wait("out of the Inbox on the server", lambda: inbox not in seeder.mailboxes_of(second)["mailboxIds"], 30)
    d.refresh()
    # Credentials live in memory only: a reload signs in again.
    fill_sign_in(d, GATEWAY, USER, PASSWORD)
    d.element(".shell[data-connection=live]", timeout=60)
    wait("back in the Inbox on the server, after a reload", lambda: back(second), 90, every=0.5)
    back_in_inbox_on_screen(d, SNOOZE[1])
    # The server may date woken mail anew: gone, so it does not push the next engine's UI
    # journeys' mail out of the Inbox's first rows.
    seeder.jmap.call(["Email/set", {"accountId": seeder.jmap.account, "destroy": [first, second]}])


def main():
    seeder = Seeder()
    one_click = OneClickList()
    seed(seeder, one_click)
    seed_filters(seeder)
    seed_labels(seeder)
    seed_snooze(seeder)
    journeys = [
        ("sign in", sign_in),
        ("not spam, and spam again", lambda d: journey_not_spam(d, seeder)),
        ("storage quota in the folder pane, warning from 90%", lambda d: journey_quota(d, seeder)),
        ("print a conversation", lambda d: journey_print(d, seeder)),
        ("a text attachment previewed as text", journey_text_attachment),
        ("a PDF attachment in the browser's own viewer, its script never run", lambda d: journey_pdf_attachment(d, one_click)),
        ("read receipts: asked for, sent, declined, never", lambda d: journey_read_receipts(d, seeder)),
        ("unsubscribe: one click, by mail, and a hostile header", lambda d: journey_unsubscribe(d, seeder, one_click)),
        ("filters: a rule from a message, real delivery, the Sieve editor, block sender", lambda d: journey_filters(d, seeder)),
        ("labels: apply to many, rename, recolour, list by label, remove, delete", lambda d: journey_labels(d, seeder)),
        ("snooze: back while open and after a reload", lambda d: journey_snooze(d, seeder)),
    ]
    run_journeys_in_one_browser(journeys, "feature", ARTIFACTS, "features", first="sign in")


if __name__ == "__main__":
    main()
