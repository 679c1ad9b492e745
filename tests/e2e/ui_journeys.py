#!/usr/bin/env python3
"""End-to-end journeys of the webmail UI: the release app served by the gateway, in headless
Chromium, against real Cyrus and the SMTP sink. A daily user's day: sign in, read a conversation,
search, write with an attachment, reply, move, delete and undo, all of it by keyboard too; and the
hostile-mail corpus, checked for script and for any request leaving while remote content is blocked.

Each journey seeds its own mail (JMAP Email/import into the demo account) under a fresh token, so
it does not depend on what other suites did to the demo mail.

Env: PETREL_TEST_GATEWAY, PETREL_E2E_APP and PETREL_TEST_PROXY_CONTROL (the app through the fault
proxy), PETREL_TEST_USER / _PASSWORD, PETREL_TEST_BULK_USER / _PASSWORD / _COUNT (a
big folder), PETREL_TEST_SINK (listing),
PETREL_TEST_SINK_DIR (the stored .eml files), PETREL_E2E_ARTIFACTS (screenshots).
"""
import datetime
import email
import email.policy
import hashlib
import http.server
import os
import sys
import tempfile
import threading
import time
import urllib.request
import json

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "mailserver"))
from demo_mail import Jmap, message, png_pixel_art  # noqa: E402
from webdriver import fill_sign_in, run_journeys_in_one_browser, wait  # noqa: E402
from accessibility import Announcements, audit  # noqa: E402

GATEWAY = os.environ["PETREL_TEST_GATEWAY"]
USER = os.environ["PETREL_TEST_USER"]
PASSWORD = os.environ["PETREL_TEST_PASSWORD"]
SINK = os.environ["PETREL_TEST_SINK"]
SINK_DIR = os.environ["PETREL_TEST_SINK_DIR"]
ARTIFACTS = os.environ.get("PETREL_E2E_ARTIFACTS", "target/e2e")
BULK_USER = os.environ["PETREL_TEST_BULK_USER"]
BULK_PASSWORD = os.environ["PETREL_TEST_BULK_PASSWORD"]
BULK_COUNT = int(os.environ["PETREL_TEST_BULK_COUNT"])
# The same app through the fault proxy, which can hold an answer back.
PROXY_APP = os.environ["PETREL_E2E_APP"]
PROXY_CONTROL = os.environ["PETREL_TEST_PROXY_CONTROL"]
TOKEN = "uij%d" % (time.time() * 1000 % 1e9)
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


# ---------------------------------------------------------------- a tracker that counts requests

class Tracker:
    """An HTTP server on 127.0.0.1 standing for every remote host a hostile mail points at:
    any request reaching it is a leak while remote content is blocked."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,"
                                 b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

            do_POST = do_GET

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# ---------------------------------------------------------------- seeding through JMAP

class Seeder:
    def __init__(self):
        self.jmap = Jmap(GATEWAY, USER, PASSWORD)
        boxes = self.jmap.call(["Mailbox/get", {"accountId": self.jmap.account, "ids": None}])[0]["list"]
        self.roles = {m["role"]: m["id"] for m in boxes if m.get("role")}
        self.names = {m["name"]: m["id"] for m in boxes}

    def folder(self, name):
        if name not in self.names:
            created = self.jmap.call(["Mailbox/set", {"accountId": self.jmap.account, "create": {"f": {"name": name}}}])[0]
            self.names[name] = created["created"]["f"]["id"]
        return self.names[name]

    def put(self, raw, mailbox_id, keywords=None, minutes_ago=0, received=None):
        """Imports `raw`, received `minutes_ago` before the run started, or at `received`."""
        blob = self.jmap.upload(raw)
        when = (received or NOW - datetime.timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")
        done = self.jmap.call(["Email/import", {"accountId": self.jmap.account, "emails": {
            "e": {"blobId": blob, "mailboxIds": {mailbox_id: True}, "keywords": keywords or {}, "receivedAt": when}}}])[0]
        return done["created"]["e"]["id"]

    def mailboxes_of(self, email_id):
        got = self.jmap.call(["Email/get", {"accountId": self.jmap.account, "ids": [email_id], "properties": ["mailboxIds", "keywords"]}])[0]
        if not got["list"]:
            return None
        return got["list"][0]

    def search(self, subject):
        ids = self.jmap.call(["Email/query", {"accountId": self.jmap.account, "filter": {"subject": subject}}])[0]["ids"]
        return ids


def when(minutes_ago):
    return NOW - datetime.timedelta(minutes=minutes_ago)


def seed_daily(seed):
    """A three-message conversation, a mail to search for, one with an inline image and a tracker."""
    inbox = seed.roles["inbox"]
    subject = "%s Launch plan" % TOKEN
    refs = []
    people = ["Ann Lee <ann@example.com>", "Bo Chen <bo@example.com>", "Ann Lee <ann@example.com>"]
    texts = ["Shall we launch on Tuesday?\n\nAnn", "Tuesday works.\n\nOn Mon, Ann Lee wrote:\n> Shall we launch on Tuesday?\n\nBo",
             "Great, Tuesday it is. I will book the room.\n\nAnn"]
    ids = []
    for i, (sender, text) in enumerate(zip(people, texts)):
        msgid = "%s-launch-%d" % (TOKEN, i)
        extra = ""
        if refs:
            extra = "In-Reply-To: <%s@demo.petrel>\r\nReferences: %s\r\n" % (refs[-1], " ".join("<%s@demo.petrel>" % r for r in refs))
        raw = message(sender, "Demo User <demo@example.org>, Bo Chen <bo@example.com>", subject if i == 0 else "Re: " + subject,
                      when(30 - i * 5), text, msgid, extra)
        ids.append(seed.put(raw, inbox, {"$seen": True} if i == 0 else {}, 30 - i * 5))
        refs.append(msgid)
    searchable = message("Cleo Park <cleo@example.com>", "demo@example.org", "%s Budget review" % TOKEN, when(40),
                         "The zeppelin budget for next quarter is attached in spirit.\n", TOKEN + "-budget")
    seed.put(searchable, inbox, {}, 40)
    return subject, ids


def seed_inline(seed, tracker):
    """An HTML mail with a cid: logo (shown) and a remote tracking pixel (blocked)."""
    boundary = "rel-" + TOKEN
    png = png_pixel_art()
    import base64
    html = ('<html><body><p>Quarterly letter</p><img id="logo" src="cid:logo@%s" alt="logo">'
            '<img src="%s/pixel-%s.gif" width="1" height="1"></body></html>') % (TOKEN, tracker.url, TOKEN)
    body = ("--{b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n"
            "--{b}\r\nContent-Type: image/png\r\nContent-ID: <logo@{t}>\r\nContent-Disposition: inline; filename=\"logo.png\"\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n{png}\r\n--{b}--\r\n").format(b=boundary, html=html, t=TOKEN, png=base64.b64encode(png).decode())
    raw = message("Letters <letters@example.com>", "demo@example.org", "%s Quarterly letter" % TOKEN, when(50), body,
                  TOKEN + "-letter", "", 'multipart/related; boundary="%s"' % boundary, "7bit")
    seed.put(raw, seed.roles["inbox"], {}, 50)
    return "%s Quarterly letter" % TOKEN


HOSTILE = {
    "script": '<p>hi</p><script>top.__pwned="script";parent.__pwned="script";window.__pwned="script"</script>'
              '<script src="{t}/script.js"></script>',
    "handlers": '<img src="x" onerror="top.__pwned=\'onerror\'"><body onload="top.__pwned=\'onload\'">'
                '<div onmouseover="top.__pwned=\'hover\'" style="width:100%;height:50px">hover</div>'
                '<details open ontoggle="top.__pwned=\'toggle\'"><summary>x</summary></details>',
    "urls": '<a id="js" href="javascript:top.__pwned=\'js-link\'">click</a><a href="data:text/html,<script>top.__pwned=1</script>">data</a>'
            '<a href=" java&#09;script:top.__pwned=2">tab</a><img src="data:image/svg+xml,<svg xmlns=&quot;http://www.w3.org/2000/svg&quot; onload=&quot;top.__pwned=3&quot;/>">'
            '<iframe src="javascript:top.__pwned=4"></iframe><iframe src="data:text/html,<script>top.__pwned=5</script>"></iframe>'
            '<iframe srcdoc="<script>top.__pwned=6</script>"></iframe><object data="{t}/object.swf"></object><embed src="{t}/embed.swf">',
    "svg": '<svg><script>top.__pwned="svg-script"</script><animate onbegin="top.__pwned=\'animate\'" attributeName="x" dur="1s"/>'
           '<image href="{t}/svg-image.png"/><set attributeName="onload" to="top.__pwned=7"/></svg>'
           '<math><mtext><table><mglyph><style><img src=x onerror="top.__pwned=\'mxss\'"></style></mglyph></table></mtext></math>',
    "css": '<style>@import url({t}/import.css); body {{ background: url({t}/bg.png) }} .x {{ background-image: url("{t}/x.png") }}'
           '@font-face {{ font-family: f; src: url({t}/font.woff) }}</style>'
           '<div style="background:url({t}/inline.png)">styled</div><div style="background:u\\72l({t}/escaped.png)">esc</div>'
           '<link rel="stylesheet" href="{t}/link.css"><table background="{t}/table-bg.png"><tr><td>t</td></tr></table>',
    "refresh": '<meta http-equiv="refresh" content="0;url={t}/refresh"><base href="{t}/base/"><img src="relative.png">'
               '<form action="{t}/form" method="post"><input name="q" value="x"><button>Go</button></form>'
               '<img srcset="{t}/srcset.png 1x"><video poster="{t}/poster.png" src="{t}/video.mp4"></video>'
               '<img src="//127.0.0.1:{port}/protocol-relative.png"><input type="image" src="{t}/input.png">',
    # DOM clobbering: a form's named inputs shadow its properties, named images the document's.
    "clobber": '<form id="f"><input name="namespaceURI"><input name="childNodes"><input name="firstChild">'
               '<input name="attributes"><input name="removeChild"><input name="nodeName"><input name="parentNode">'
               '<input name="localName"><p>inside the form</p><img src="{t}/form-inner.png" onerror="top.__pwned=\'clobber\'"></form>'
               '<img name="body"><image name="body"><img id="body"><form name="body"></form><img name="cookie">'
               '<img name="getElementById"><img name="querySelector"><a id="attributes" name="childNodes">a</a>',
    "broken": '<p><b><i>unclosed <table><td>cell</tr><tr><td><div></span></p></td><img src="{t}/pixel.gif" width=1 height=1'
              '<!-- <img src="{t}/comment.png"> --><![CDATA[<img src="{t}/cdata.png">]]><noscript><img src="{t}/noscript.png"></noscript>',
}


def seed_hostile(seed, tracker):
    folder = seed.folder("Hostile " + TOKEN)
    port = tracker.url.rsplit(":", 1)[1]
    for i, (name, html) in enumerate(HOSTILE.items()):
        body = "<html><head><title>x</title></head><body>%s<p>end-%s</p></body></html>" % (html.format(t=tracker.url, port=port), name)
        raw = message("Mallory <mallory@evil.example>", "demo@example.org", "%s hostile %s" % (TOKEN, name), when(60 + i),
                      body, "%s-hostile-%s" % (TOKEN, name), "", "text/html; charset=utf-8")
        seed.put(raw, folder, {}, 60 + i)
    return folder


# ---------------------------------------------------------------- the app

def shot(d, name):
    d.screenshot(os.path.join(ARTIFACTS, name))


def sign_in(d):
    d.get(GATEWAY + "/")
    d.element("#sign-in")
    shot(d, "ui-sign-in.png")
    problems = audit(d, "first sign-in")
    assert not problems, "\n".join(problems)
    fill_sign_in(d, GATEWAY, USER, PASSWORD)
    d.element(".shell[data-connection=live] .message-row", timeout=60)


def blur(d):
    """Takes focus off any field, so keys go to the page's shortcuts."""
    d.run("document.activeElement && document.activeElement.blur()")


def key(d, keys):
    d.keys(keys)


class Row:
    """A message row found by its text; clicked through its id, so a re-render between finding and
    clicking (rows are re-keyed when a flag changes) cannot leave a stale handle."""

    def __init__(self, d, email_id):
        self.d, self.id = d, email_id

    def click(self):
        clicked = self.d.run("const b = document.querySelector('.message-row[data-id=\"' + arguments[0] + '\"] .message-open');"
                             "if (b) b.click(); return !!b;", self.id)
        assert clicked, "row %s is gone" % self.id


def row(d, subject_part):
    email_id = d.wait_for("a row with %r" % subject_part, lambda: d.run(
        "const r = [...document.querySelectorAll('.message-row[data-id]')].find(r => r.innerText.includes(arguments[0]));"
        "return r && r.dataset.id", subject_part), 30)
    return Row(d, email_id)


def no_row(d, subject_part):
    d.wait_for("no row with %r" % subject_part, lambda: d.run(
        "return ![...document.querySelectorAll('.message-row')].some(r => r.innerText.includes(arguments[0]))", subject_part), 30)


def open_folder(d, name):
    d.wait_for("folder %s" % name, lambda: [b for b in d.find(".mailbox-button") if (b.text or "").split("\n")[0].strip() == name], 30)[0].click()


def frame_ready(d, index=0):
    """Waits for the reader's index-th mail frame to have loaded its document."""
    return d.wait_for("mail frame loaded", lambda: d.run(
        "const f = document.querySelectorAll('iframe.mail-frame')[arguments[0]];"
        "return !!(f && f.contentDocument && f.contentDocument.readyState === 'complete' && f.contentDocument.body "
        "&& f.contentDocument.body.innerHTML.length > 0)", index), 30)


def sink_messages(token):
    with urllib.request.urlopen(SINK + "/messages", timeout=10) as r:
        return [m for m in json.load(r) if token in (m.get("subject") or "")]


def sink_eml(entry):
    with open(os.path.join(SINK_DIR, "%06d.eml" % entry["n"]), "rb") as f:
        return email.message_from_bytes(f.read(), policy=email.policy.default)


# ---------------------------------------------------------------- journeys

def journey_read_thread(d, seed, subject):
    row(d, TOKEN + " Launch plan").click()
    d.wait_for("conversation of 3", lambda: len(d.find(".conversation-item")) == 3, 30)
    # The opened message and the unread ones are expanded, with their bodies.
    # Read in the page: a re-render between finding the bodies and reading them leaves no stale handle.
    d.wait_for("body of the last message", lambda: d.run(
        "return [...document.querySelectorAll('.plain-text')].some(e => e.innerText.includes('book the room'))"), 30)
    quoted = d.find(".conversation-item details.quoted")
    assert quoted, "the quote in Bo's reply is folded"
    shot(d, "ui-thread.png")


def journey_inline_and_tracker(d, seed, tracker, subject):
    before = len(tracker.hits)
    row(d, subject).click()
    frame_ready(d)
    d.element(".remote-blocked")
    logo = d.wait_for("cid logo decoded", lambda: d.run(
        "const f = document.querySelector('iframe.mail-frame'); const i = f.contentDocument.querySelector('img[alt=logo]');"
        "return i && i.complete && i.naturalWidth === 16 && i.src.startsWith('blob:')"), 30)
    assert logo
    # The frame's load event came after every image and stylesheet it would fetch: count now.
    assert len(tracker.hits) == before, "the tracker was reached while blocked: %s" % tracker.hits[before:]
    shot(d, "ui-html-blocked.png")
    # Allowing them loads them: the same check can fail.
    d.element(".allow-once").click()
    wait("tracker hit after allowing", lambda: any(("pixel-%s" % TOKEN) in h for h in tracker.hits[before:]), 30)


# WebDriver's Enter key: Chromium also takes "\n" for it, Firefox types a line break.
ENTER = "\ue007"


def journey_search(d):
    search = d.element("#search")
    search.clear()
    search.type("zeppelin" + ENTER)
    hit = row(d, TOKEN + " Budget review")
    d.wait_for("a highlighted snippet", lambda: [m for m in d.find(".message-row mark") if "zeppelin" in (m.text or "").lower()], 30)
    shot(d, "ui-search.png")
    # Filters: from: and in: narrow the same search.
    search.clear()
    search.type("from:cleo@example.com in:Inbox %s" % TOKEN + ENTER)
    row(d, TOKEN + " Budget review")
    assert not any("Launch plan" in (r.text or "") for r in d.find(".message-row"))
    return hit


def journey_compose_with_attachment(d):
    payload = bytes(range(256)) * 512 + os.urandom(4096)  # 135 KB, every byte value
    path = os.path.join(tempfile.mkdtemp(), "report-%s.bin" % TOKEN)
    with open(path, "wb") as f:
        f.write(payload)
    d.element("#compose-button").click()
    d.element("#compose-to").type("bob@example.org")
    d.element("#compose-subject").type("%s with attachment" % TOKEN)
    d.element("#compose-body").type("The report is attached.")
    d.element("#compose-files").type(path)
    d.element(".upload.done", timeout=60)
    shot(d, "ui-compose.png")
    d.element("#compose-send").click()
    d.element("#undo-send")
    mail = wait("mail with the attachment at the sink", lambda: sink_messages("%s with attachment" % TOKEN), 60, every=0.25)
    assert len(mail) == 1
    parsed = sink_eml(mail[0])
    parts = [p for p in parsed.iter_attachments() if p.get_filename() == os.path.basename(path)]
    assert parts, "the attachment is in the sent mail"
    got = parts[0].get_content()
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(payload).hexdigest(), "attachment bytes changed on the way"
    # Once sent, the same message never leaves twice.
    assert len(sink_messages("%s with attachment" % TOKEN)) == 1


def journey_reply(d, subject):
    open_folder(d, "Inbox")
    row(d, TOKEN + " Launch plan").click()
    # Reply to Ann's last message, once its body is shown.
    d.wait_for("Ann's last message with its Reply button", lambda: d.run(
        "const item = [...document.querySelectorAll('.conversation-item.open')].find(i => i.innerText.includes('book the room'));"
        "const b = item && item.querySelector('.reply'); if (b) b.click(); return !!b;"), 30)
    body = d.element("#compose-body")
    text = d.wait_for("the quoted text", lambda: d.run("const b = document.getElementById('compose-body'); return b && b.value.includes('wrote:') && b.value"), 10)
    assert "> Great, Tuesday it is." in text, text
    assert (d.run("return document.getElementById('compose-subject').value") or "").startswith("Re: ")
    assert "ann@example.com" in d.run("return document.getElementById('compose-to').value")
    d.run("const b = document.getElementById('compose-body'); b.focus(); b.setSelectionRange(0, 0);")
    body.type("Booked. ")
    d.element("#compose-send").click()
    d.element("#undo-send")
    mail = wait("reply at the sink", lambda: [m for m in sink_messages("Re: " + subject)], 60, every=0.25)
    parsed = sink_eml(mail[-1])
    assert ("%s-launch-2@demo.petrel" % TOKEN) in (parsed["In-Reply-To"] or ""), parsed["In-Reply-To"]
    content = parsed.get_body(("plain",)).get_content()
    assert "> Great, Tuesday it is." in content, content


def journey_move_delete_undo(d, seed):
    open_folder(d, "Inbox")
    subject = TOKEN + " Budget review"
    [budget_id] = seed.search(subject)
    # Move by keyboard: select the row, m, type the folder, Enter.
    r = row(d, subject)
    r.click()
    key(d, "u")
    key(d, "m")
    d.element("#move-filter").type("Receipts")
    shot(d, "ui-move.png")
    key(d, "\ue007")
    no_row(d, subject)
    wait("moved on the server", lambda: seed.mailboxes_of(budget_id)["mailboxIds"] == {seed.names["Receipts"]: True}, 30)
    # Delete and undo in Receipts.
    open_folder(d, "Receipts")
    row(d, subject).click()
    d.wait_for("delete button", lambda: d.find(".message-view .delete"), 30)[0].click()
    no_row(d, subject)
    wait("in Trash on the server", lambda: seed.mailboxes_of(budget_id)["mailboxIds"] == {seed.roles["trash"]: True}, 30)
    d.element("#undo-action").click()
    row(d, subject)
    wait("back in Receipts on the server", lambda: seed.mailboxes_of(budget_id)["mailboxIds"] == {seed.names["Receipts"]: True}, 30)


def journey_keyboard_only(d, seed):
    """Inbox to flag to Sent, without the mouse."""
    key(d, "gi")
    d.wait_for("Inbox selected", lambda: [b for b in d.find(".mailbox-button.selected") if "Inbox" in (b.text or "")], 30)
    blur(d)
    key(d, "jj")
    # The screen-reader message stays unread and unflagged for the accessibility journeys.
    if READ_ALOUD in d.element(".message-row.cursor").text:
        key(d, "j")
        d.wait_for("the cursor past it", lambda: READ_ALOUD not in d.element(".message-row.cursor").text, 10)
    cursor = d.element(".message-row.cursor")
    subject, email_id = cursor.text, cursor.attribute("data-id")
    key(d, "o")
    d.element(".reader")
    flagged_before = "$flagged" in (seed.mailboxes_of(email_id) or {}).get("keywords", {})
    key(d, "s")
    wait("flag toggled on the server", lambda: ("$flagged" in seed.mailboxes_of(email_id)["keywords"]) != flagged_before, 30)
    key(d, "?")
    d.element("#help-title")
    shot(d, "ui-shortcuts.png")
    key(d, "\ue00c")  # Escape
    d.wait_for("help closed", lambda: not d.find("#help-title"), 10)
    key(d, "u")
    d.wait_for("reader closed", lambda: not d.find(".reader"), 10)
    key(d, "gs")
    d.wait_for("Sent selected", lambda: [b for b in d.find(".mailbox-button.selected") if "Sent" in (b.text or "")], 30)
    key(d, "c")
    d.element("#compose-to")
    active = d.run("return document.activeElement && document.activeElement.id")
    assert active == "compose-to", "the composer takes focus: %s" % active
    d.element("#compose-discard").click()
    return subject


def journey_hostile(d, tracker, folder_name):
    before = len(tracker.hits)
    d.run("window.__pwned = undefined")
    open_folder(d, folder_name)
    for i, name in enumerate(HOSTILE):
        row(d, "%s hostile %s" % (TOKEN, name)).click()
        frame_ready(d)
        d.wait_for("end marker of %s" % name, lambda: d.run(
            "const f = document.querySelector('iframe.mail-frame'); return f.contentDocument.body.innerText.includes(arguments[0])", "end-" + name), 20)
        # Hover and click what a user would: handlers must be gone, links inert.
        d.run("const doc = document.querySelector('iframe.mail-frame').contentDocument;"
              "for (const el of doc.querySelectorAll('*')) { el.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})); }"
              "const js = doc.getElementById('js'); if (js) js.click();")
        state = d.run(
            "const f = document.querySelector('iframe.mail-frame'); const doc = f.contentDocument;"
            "const attrs = [...doc.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.name + '=' + a.value));"
            "return {top: window.__pwned === undefined ? null : String(window.__pwned), frame: f.contentWindow.__pwned === undefined ? null : String(f.contentWindow.__pwned),"
            " sandbox: f.getAttribute('sandbox'), scripts: doc.body.querySelectorAll('script,iframe,object,embed,svg,math,form,meta,base,link,style').length,"
            " handlers: attrs.filter(a => /^on/i.test(a)), jsurls: attrs.filter(a => /javascript:|data:text/i.test(a)),"
            " csp: doc.querySelector('meta[http-equiv]') && doc.querySelector('meta[http-equiv]').content}")
        assert state["top"] is None and state["frame"] is None, "%s ran script: %s" % (name, state)
        assert "allow-scripts" not in state["sandbox"], state
        assert state["scripts"] == 0 and not state["handlers"] and not state["jsurls"], "%s kept active content: %s" % (name, state)
        assert "script-src 'none'" in state["csp"], state
        if name == "clobber":
            clobber = d.run(
                "const doc = document.querySelector('iframe.mail-frame').contentDocument;"
                "return {body: doc.body.tagName, form: doc.body.innerText.includes('inside the form'),"
                " names: [...doc.body.querySelectorAll('[name],[id]')].map(e => (e.getAttribute('name') || '') + '/' + (e.id || ''))}")
            assert clobber["body"] == "BODY" and clobber["form"], "the clobbering mail did not show whole: %s" % clobber
            assert not clobber["names"], "names or ids that shadow DOM properties stayed: %s" % clobber
        if i == 0:
            shot(d, "ui-hostile.png")
    # Each frame's load event came after everything it would fetch: counting now sees every leak.
    leaked = tracker.hits[before:]
    assert not leaked, "requests left while remote content was blocked: %s" % leaked
    assert d.run("return window.__pwned === undefined"), "a script ran in Petrel's page"


def journey_second_account_big_folder(d):
    """Add the bulk account beside the demo one, scroll its 2,000-message folder (only the rows
    in view exist), and switch back."""
    d.run("const s = document.getElementById('account-select'); s.value = '+add'; s.dispatchEvent(new Event('change', {bubbles: true}));")
    fill_sign_in(d, GATEWAY, BULK_USER, BULK_PASSWORD)
    d.wait_for("the bulk account shown", lambda: d.run("const s = document.getElementById('account-select'); return s && s.selectedOptions[0].text.startsWith(arguments[0])", BULK_USER), 60)
    open_folder(d, "Bulk")
    d.element(".message-row[data-position]")
    total = d.run("return document.querySelector('.message-spacer').style.height")
    rows = lambda: d.run("return document.querySelectorAll('.message-row').length")
    assert rows() < 60, "only the rows in view: %d" % rows()
    d.run("const s = document.querySelector('.message-scroller'); s.scrollTop = s.scrollHeight;")
    last = d.wait_for("the last rows loaded", lambda: d.run(
        "return [...document.querySelectorAll('.message-row[data-position]')].some(r => +r.dataset.position >= arguments[0])", BULK_COUNT - 5), 60)
    assert last and rows() < 60, "still only the rows in view after scrolling to the end: %d (%s)" % (rows(), total)
    shot(d, "ui-big-folder.png")
    assert d.find(".unified-unread"), "two accounts with unread mail show one count"
    d.run("const s = document.getElementById('account-select'); const o = [...s.options].find(o => o.text.startsWith(arguments[0]));"
          "s.value = o.value; s.dispatchEvent(new Event('change', {bubbles: true}));", USER)
    row(d, TOKEN + " Launch plan")


def journey_screens(d):
    # Settings, dark mode, and a phone-sized window.
    d.element("#settings-button").click()
    d.element("#theme")
    # A signature written here is added when writing from that identity.
    field = d.element("#signature-0")
    field.clear()
    # Two lines, with the Enter key between them as a user types them: WebKit's driver drops a "\n"
    # character sent as text.
    field.type("Demo User\ue007Petrel test desk %s" % TOKEN)
    d.element(".save-signature").click()
    shot(d, "ui-settings.png")
    d.element("#compose-button").click()
    d.wait_for("the signature in a new message", lambda: d.run(
        "const b = document.getElementById('compose-body'); return b && b.value.includes(arguments[0])", "-- \nDemo User\nPetrel test desk " + TOKEN), 20)
    d.element("#compose-discard").click()
    d.run("const s = document.getElementById('theme'); s.value = 'dark'; s.dispatchEvent(new Event('change', {bubbles: true}));")
    d.wait_for("dark theme", lambda: d.run("return document.documentElement.dataset.theme === 'dark'"), 10)
    open_folder(d, "Inbox")
    row(d, TOKEN + " Launch plan").click()
    d.element(".conversation-item")
    shot(d, "ui-dark.png")
    d.cmd("POST", "/window/rect", {"width": 390, "height": 844})
    shot(d, "ui-phone-reader.png")
    key(d, "u")
    d.element(".message-row")
    shot(d, "ui-phone-list.png")
    d.cmd("POST", "/window/rect", {"width": 1280, "height": 900})
    d.run("const s = document.querySelector('#theme'); if (s) { s.value = 'system'; }")
    d.run("localStorage.removeItem('petrel.prefs')")


def set_theme(d, theme):
    d.element("#settings-button").click()
    d.run("const s = document.getElementById('theme'); s.value = arguments[0]; s.dispatchEvent(new Event('change', {bubbles: true}));", theme)
    d.wait_for("the %s theme" % theme, lambda: d.run("return document.documentElement.dataset.theme === arguments[0]", theme), 10)


# An unread message in the Inbox that no other journey moves or opens before the accessibility ones.
READ_ALOUD = "%s Screen reader check" % TOKEN


def seed_read_aloud(seed):
    seed.put(message("Dana Wu <dana@example.com>", USER, READ_ALOUD, when(2), "Plain words for the screen reader.\n",
                     TOKEN + "-read-aloud"), seed.roles["inbox"], minutes_ago=2)


def journey_list_as_read(d, seed):
    """The message list as a screen reader meets it: a list whose rows say where they stand in
    the whole folder (only the rows in view exist), each with a checkbox and a button named by
    what it shows, in order."""
    open_folder(d, "Inbox")
    budget = row(d, READ_ALOUD)
    rows = d.run(
        "return [...document.querySelectorAll('.message-row[data-id]')].map(r => ({id: r.dataset.id,"
        " pos: r.getAttribute('aria-posinset'), size: r.getAttribute('aria-setsize'), role: r.getAttribute('role'),"
        " text: r.querySelector('.message-open').innerText}))")
    # The count is the list's own length (what the virtual list is as tall as)...
    length = d.run("return Math.round(parseFloat(document.querySelector('.message-spacer').style.height) / 64)")
    assert rows and all(r["size"] == str(length) for r in rows), "every row counts the list's %d rows: %s" % (length, rows[:3])
    # ...which on Cyrus is the folder's count of conversations on the server. Not checked on
    # Stalwart: its totals count messages even with collapseThreads; the app bounds a total after
    # a change by what changed, but a list can still start from a window's message count (32 rows
    # for 29 conversations, WebKit, the third engine on one Stalwart): a known fault, left open.
    if os.environ.get("PETREL_TEST_SERVER", "cyrus") == "cyrus":
        inbox = seed.roles["inbox"]
        total = len(seed.jmap.call(["Email/query", {"accountId": seed.jmap.account, "filter": {"inMailbox": inbox},
                                                    "collapseThreads": True, "limit": 1000}])[0]["ids"])
        assert length == total, "the list's %d rows are the folder's %d conversations" % (length, total)
    assert [r["pos"] for r in rows] == [str(i + 1) for i in range(len(rows))], [r["pos"] for r in rows]
    assert all(r["role"] is None for r in rows), "rows are list items, not options"
    # What the engine's accessibility tree says (WebDriver's computed role and label).
    el = lambda css: d.find(css)[0].id
    button = el('.message-row[data-id="%s"] .message-open' % budget.id)
    role = d.cmd("GET", "/element/%s/computedrole" % button)
    label = d.cmd("GET", "/element/%s/computedlabel" % button)
    assert role == "button", role
    words = label.split()
    assert words[0].startswith("Unread") and "Dana Wu" in label and READ_ALOUD in label, label
    assert label.index("Dana Wu") < label.index(READ_ALOUD), "the name follows what is shown: %s" % label
    assert d.cmd("GET", "/element/%s/computedrole" % el(".message-list")) == "list"
    check = d.cmd("GET", "/element/%s/computedlabel" % el('.message-row[data-id="%s"] .row-check' % budget.id))
    assert READ_ALOUD in check, check


def journey_view_source(d, seed):
    """A message's source, as the server keeps it: "View source" shows it (through the SHA-256
    check every download passes), with the headers the sender wrote; "Hide source" folds it."""
    search_for(d, READ_ALOUD)
    row(d, READ_ALOUD).click()
    d.wait_for("the message's text", lambda: any("Plain words" in (e.text or "") for e in d.find(".plain-text")), 30)
    assert d.find("#download-eml"), "a .eml download is offered beside it"
    d.element("#view-source").click()
    source = d.element(".message-source", timeout=30).text
    assert "Subject: " + READ_ALOUD in source and "Message-ID: <%s-read-aloud" % TOKEN in source, source[:600]
    assert "Plain words for the screen reader." in source, source[-600:]
    problems = audit(d, "message source")
    assert not problems, "\n".join(problems)
    d.element("#view-source").click()
    d.wait_for("the source folded", lambda: not d.find(".message-source"), 10)


def search_for(d, text):
    search = d.element("#search")
    search.clear()
    search.type(text + ENTER)
    d.wait_for("results for %s" % text, lambda: text in d.run("return document.querySelector('.list-head h2').innerText"), 30)
    row(d, text)


def journey_accessibility(d):
    """axe-core's WCAG 2.1 A/AA rules on every main screen, in the light and the dark theme: the
    inbox, a message, a conversation, the composer, search results, settings, the move, help and
    folder dialogs, the add-account sign-in form and the phone layout. Fails listing every violation."""
    found = []
    for theme in ("light", "dark"):
        set_theme(d, theme)
        found += audit(d, "%s settings" % theme)
        # The list is virtualized and other suites keep adding mail: rows are found by search,
        # which puts them at the top.
        open_folder(d, "Inbox")
        d.element(".message-row[data-id]")
        found += audit(d, "%s inbox" % theme)
        search_for(d, READ_ALOUD)
        found += audit(d, "%s search results" % theme)
        row(d, READ_ALOUD).click()
        d.wait_for("the message's text", lambda: any("Plain words" in (e.text or "") for e in d.find(".plain-text")), 30)
        found += audit(d, "%s reader" % theme)
        search_for(d, TOKEN + " Launch plan")
        row(d, "Launch plan").click()
        d.wait_for("the conversation", lambda: len(d.find(".conversation-item")) >= 2, 30)
        found += audit(d, "%s conversation" % theme)
        # Shortcuts go to the page, not to the search field the search left focused.
        blur(d)
        key(d, "m")
        d.element("#move-title")
        found += audit(d, "%s move dialog" % theme)
        key(d, "\ue00c")
        d.wait_for("move closed", lambda: not d.find("#move-title"), 10)
        blur(d)
        key(d, "?")
        d.element("#help-title")
        found += audit(d, "%s help dialog" % theme)
        key(d, "\ue00c")
        d.wait_for("help closed", lambda: not d.find("#help-title"), 10)
        d.element("#new-folder").click()
        d.element("#folder-name")
        found += audit(d, "%s new folder" % theme)
        d.run("document.querySelector('.folder-form button[type=button]').click()")
        d.element("#compose-button").click()
        d.element("#compose-to")
        found += audit(d, "%s composer" % theme)
        d.element("#compose-discard").click()
        search_for(d, READ_ALOUD)
        d.cmd("POST", "/window/rect", {"width": 390, "height": 844})
        row(d, READ_ALOUD).click()
        d.element(".reader .plain-text")
        found += audit(d, "%s phone reader" % theme)
        blur(d)
        key(d, "u")
        d.element(".message-row")
        found += audit(d, "%s phone list" % theme)
        d.cmd("POST", "/window/rect", {"width": 1280, "height": 900})
        d.run("const s = document.getElementById('account-select'); s.value = '+add'; s.dispatchEvent(new Event('change', {bubbles: true}));")
        d.element("#sign-in-cancel")
        found += audit(d, "%s sign-in" % theme)
        d.element("#sign-in-cancel").click()
        d.element(".message-row")
    d.run("localStorage.removeItem('petrel.prefs')")
    assert not found, "%d accessibility violations:\n%s" % (len(found), "\n".join(found))


def journey_stale_answer_never_wins(d, seed):
    """Two searches, the first answered slowly (held 4 s at the fault proxy), the second at once:
    the second's results stay, before and after the first's answer arrives."""
    inbox = seed.roles["inbox"]
    for word in ("slowfinch", "fastwren"):
        raw = message("Ann Lee <ann@example.com>", USER, "%s %s" % (TOKEN, word), when(1), "About the %s." % word,
                      "%s-%s" % (TOKEN, word))
        seed.put(raw, inbox, minutes_ago=1)
    wait("the index has both", lambda: seed.search("%s fastwren" % TOKEN) and seed.search("%s slowfinch" % TOKEN), 60, every=0.5)
    proxy = lambda path: json.load(urllib.request.urlopen(PROXY_CONTROL + path, timeout=10))
    proxy("/clear")
    d.get(PROXY_APP + "/")
    fill_sign_in(d, PROXY_APP, USER, PASSWORD)
    d.element(".shell[data-connection=live] .message-row", timeout=60)
    proxy("/fault?match=slowfinch&action=delay&ms=4000&count=1")
    search = d.element("#search")
    search.clear()
    search.type("slowfinch" + ENTER)
    wait("the slow search on the wire", lambda: proxy("/log?match=slowfinch"), 30)
    search.clear()
    search.type("fastwren" + ENTER)
    row(d, TOKEN + " fastwren")
    slow = wait("the slow answer passed on", lambda: [e for e in proxy("/log?match=slowfinch") if e.get("answered")], 30)
    shown = lambda: d.run("return [document.querySelector('.list-head h2').innerText,"
                          " [...document.querySelectorAll('.message-row .subject')].map(e => e.innerText)]")
    # The page has had the slow answer for a while: what it shows is still the newer search's.
    deadline = time.time() + 2
    while time.time() < deadline:
        heading, subjects = shown()
        assert "fastwren" in heading and all("slowfinch" not in s for s in subjects), (heading, subjects, slow)
        time.sleep(0.1)
    assert any("fastwren" in s for s in shown()[1])


def journey_announcements(d, seed):
    """What happens without a click is said by the announcer (the page's live region) once per
    event, however often the screen re-renders meanwhile: new mail, a delete with its Undo and the
    undo, the connection lost and back, and a send the server refuses. Runs on the fault proxy's
    origin (the journey before signed in there)."""
    proxy = lambda path: json.load(urllib.request.urlopen(PROXY_CONTROL + path, timeout=10))
    said = Announcements(d)
    open_folder(d, "Inbox")
    d.element(".shell[data-connection=live] .message-row", timeout=60)
    news = "%s live news" % TOKEN
    # Received now: the page announces mail newer than its start.
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) + datetime.timedelta(seconds=1)
    seed.put(message("Dana Wu <dana@example.com>", USER, news, now, "Fresh news.", TOKEN + "-news"),
             seed.roles["inbox"], received=now)
    said.wait_for("the new mail", lambda t: news in t, 60)
    row(d, news).click()
    d.element(".reader")
    key(d, "#")
    said.wait_for("the delete, with its Undo", lambda t: "Undo with z" in t)
    key(d, "z")
    said.wait_for("the undo", lambda t: "Undone" in t)
    proxy("/down")
    try:
        # The page probes with a sync when push drops; a user acting meanwhile finds the server
        # gone too (the first message flagged): either way "offline" is said once.
        d.run("document.querySelector('.message-row[data-id] .message-open').click()")
        d.element(".reader")
        blur(d)
        key(d, "s")
        said.wait_for("offline", lambda t: "You are offline" in t, 60)
    finally:
        proxy("/up")
    said.wait_for("back online", lambda t: "Connected again." in t, 60)
    refused = "%s refused send" % TOKEN
    proxy("/fault?match=%s&action=status&status=400&count=20" % refused.replace(" ", "%20"))
    d.element("#compose-button").click()
    d.element("#compose-to").type("bob@example.org")
    d.element("#compose-subject").type(refused)
    d.element("#compose-body").type("This one the server refuses.")
    # WebKit on Stalwart once showed "A new version of Petrel is ready" here (an update its service
    # worker found after the outage; not understood yet), over the composer's Send: "Later", as a
    # user would.
    d.run("const later = document.querySelector('.update-banner button.link'); if (later) later.click();")
    d.element("#compose-send").click()
    said.wait_for("the refused send", lambda t: refused in t and "was not sent" in t, 90)
    proxy("/clear")
    # Each event once, though the list, the top bar and the outbox re-rendered many times between.
    everything = said.said()
    # Counted by occurrence: two events in one turn are said together, in one text.
    for what, needle in [("new mail", "New message from Dana Wu: " + news), ("delete", "to Trash. Undo with z"), ("undo", "Undone"),
                         ("offline", "You are offline"), ("online", "Connected again."), ("send queued", "Sending “%s”" % refused),
                         ("send failed", "“%s” was not sent" % refused)]:
        times = sum(t.count(needle) for t in everything)
        assert times == 1, "%s was said %d times: %s" % (what, times, everything)


def journey_app_that_cannot_load(d):
    """The release build's first module is the sign-in form; the rest of the app is a wasm chunk
    fetched behind it. When that chunk cannot be fetched, signing in says so in the form, keeps
    what was typed, and signing in again loads it; no panic. Runs on the fault proxy's origin,
    which refuses the chunk, before anything there has fetched it (nothing holds a copy)."""
    proxy = lambda path: json.load(urllib.request.urlopen(PROXY_CONTROL + path, timeout=10))
    proxy("/fault?path=/chunk-app-&action=status&status=503&count=1000")
    try:
        d.get(PROXY_APP + "/")
        fill_sign_in(d, PROXY_APP, USER, PASSWORD)
        d.wait_for("the failure, in the form", lambda: "could not be loaded" in d.element("#sign-in .error").text, 30)
        text = d.element("#sign-in .error").text
        assert "Petrel could not be loaded" in text and "try again" in text, text
        assert not d.find(".shell"), "no mail without the app"
    finally:
        proxy("/clear")
    assert d.run("return document.getElementById('password').value") == PASSWORD, "the password typed is still there"
    d.element("#sign-in-button").click()
    d.element(".shell[data-connection=live] .message-row", timeout=60)


def main():
    tracker = Tracker()
    seed = Seeder()
    subject, _ = seed_daily(seed)
    letter = seed_inline(seed, tracker)
    seed_hostile(seed, tracker)
    seed_read_aloud(seed)
    journeys = [
        ("sign in, inbox", lambda d: (sign_in(d), shot(d, "ui-inbox.png"))),
        ("read a conversation", lambda d: journey_read_thread(d, seed, subject)),
        ("inline image shown, tracker blocked until allowed", lambda d: journey_inline_and_tracker(d, seed, tracker, letter)),
        ("hostile mail", lambda d: journey_hostile(d, tracker, "Hostile " + TOKEN)),
        ("search with snippets and filters", lambda d: journey_search(d)),
        ("compose with an attachment", lambda d: journey_compose_with_attachment(d)),
        ("reply with quoting", lambda d: journey_reply(d, subject)),
        ("move, delete and undo", lambda d: journey_move_delete_undo(d, seed)),
        ("keyboard only", lambda d: journey_keyboard_only(d, seed)),
        ("second account, big folder virtualized", lambda d: journey_second_account_big_folder(d)),
        ("settings, dark, phone", lambda d: journey_screens(d)),
        ("accessibility: the message list as a screen reader reads it", lambda d: journey_list_as_read(d, seed)),
        ("accessibility: every screen, light and dark", lambda d: journey_accessibility(d)),
        ("view a message's source", lambda d: journey_view_source(d, seed)),
        # Last: they sign in again on the fault proxy's origin. The first to load anything there
        # (the browser's HTTP cache keeps the chunks it fetched through it).
        ("the app that cannot load: the form says so, signing in again loads it", journey_app_that_cannot_load),
        ("a slow answer never overwrites a newer one", lambda d: journey_stale_answer_never_wins(d, seed)),
        ("each event announced once", lambda d: journey_announcements(d, seed)),
    ]
    run_journeys_in_one_browser(journeys, "UI", ARTIFACTS, "ui", first="sign in, inbox")


if __name__ == "__main__":
    main()
