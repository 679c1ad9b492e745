"""Seeds a JMAP account with realistic mail, through JMAP itself (upload + Email/import).

Folders: Inbox, Archive, Drafts, Sent, Trash, Junk, Projects, Projects/Petrel, Receipts.
Mail: a five-message thread across Inbox and Sent, unread and flagged mail, a multipart/alternative
HTML newsletter with remote images, an invoice with a PDF and a PNG attached, RFC 2047 headers in UTF-8,
ISO-8859-1 and ISO-2022-JP, and bodies in ISO-8859-1, KOI8-R and Shift_JIS.
"""
import base64
import datetime
import json
import struct
import sys
import urllib.parse
import urllib.request
import zlib

USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


class Jmap:
    def __init__(self, base_url, login, password):
        self.base = base_url.rstrip("/")
        token = base64.b64encode(("%s:%s" % (login, password)).encode()).decode()
        self.auth = "Basic " + token
        # RFC 8620 discovery (Cyrus redirects it to /jmap/); the session's URLs may be relative
        # (Cyrus) or absolute (Stalwart).
        session = self.session = self.request("GET", self.base + "/.well-known/jmap")
        self.account = session["primaryAccounts"]["urn:ietf:params:jmap:mail"]
        self.api = urllib.parse.urljoin(self.base + "/", session["apiUrl"])
        self.upload_url = urllib.parse.urljoin(self.base + "/", session["uploadUrl"].replace("{accountId}", self.account))

    def request(self, method, url, body=None, content_type="application/json"):
        req = urllib.request.Request(url, data=body, method=method,
                                     headers={"Authorization": self.auth, "Content-Type": content_type})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.load(resp)

    def call(self, *calls, using=()):
        body = json.dumps({"using": USING + list(using), "methodCalls": [[n, a, str(i)] for i, (n, a) in enumerate(calls)]})
        responses = self.request("POST", self.api, body.encode())["methodResponses"]
        for name, args, _ in responses:
            if name == "error":
                raise SystemExit("demo_mail: JMAP error %s" % json.dumps(args))
            for key in ("notCreated", "notUpdated", "notDestroyed"):
                if args.get(key):
                    raise SystemExit("demo_mail: %s %s" % (key, json.dumps(args[key])))
        return [args for _, args, _ in responses]

    def upload(self, raw):
        return self.request("POST", self.upload_url, raw, "message/rfc822")["blobId"]


def date(days_ago, hour=9, minute=0):
    moment = (NOW - datetime.timedelta(days=days_ago)).replace(hour=hour, minute=minute, second=0)
    return moment


def rfc2822(moment):
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def png_pixel_art():
    """A real 16x16 PNG (a blue petrel-ish chevron), so previews show an actual image."""
    rows = []
    for y in range(16):
        row = b"\x00"
        for x in range(16):
            on = abs(x - 8) == (y // 2) or abs(x - 8) == (y // 2) + 1
            row += bytes((30, 90, 200) if on else (245, 248, 255))
        rows.append(row)

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def pdf_like():
    """A small but well-formed PDF: binary bytes the attachment checks can verify end to end."""
    body = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]/Contents 4 0 R>>endobj\n")
    stream = b"BT /F1 18 Tf 20 100 Td (Invoice 2026-0042: EUR 1,280.00) Tj ET"
    body += b"4 0 obj<</Length %d>>stream\n%s\nendstream endobj\n" % (len(stream), stream)
    body += bytes(range(256)) * 4  # every byte value, to catch any lossy transfer
    return body + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def message(sender, to, subject, when, body, msgid, extra_headers="", content_type="text/plain; charset=utf-8",
            transfer="8bit", cc=None):
    head = "From: %s\r\nTo: %s\r\n" % (sender, to)
    if cc:
        head += "Cc: %s\r\n" % cc
    head += ("Subject: %s\r\nDate: %s\r\nMessage-ID: <%s@demo.petrel>\r\n%sMIME-Version: 1.0\r\n"
             "Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n\r\n") % (
        subject, rfc2822(when), msgid, extra_headers, content_type, transfer)
    if isinstance(body, str):
        body = body.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
    return head.encode("utf-8") + body


def thread():
    """Five messages: four received (Inbox), one sent by the demo user (Sent)."""
    people = ["Alice Martin <alice@example.com>", "Carol Nguyen <carol@example.net>"]
    me = "Demo User <demo@example.org>"
    texts = [
        (people[0], "Hi all,\n\nLet's agree the Q1 roadmap before the offsite. I've put three themes in the doc:\n"
                    "offline mode, search speed and the new composer.\n\nCan you each send me your top pick by Thursday?\n\nAlice"),
        (people[1], "Offline mode gets my vote. Half our users read mail on trains.\n\nCarol"),
        (me, "Search speed for me: people live in search. But offline is a close second.\n\n-- \nDemo"),
        (people[0], "Thanks both. Tallying now; looks like offline wins with search right behind.\n\nAlice"),
        (people[1], "Great. I'll draft the offline spec this week and share it on Monday.\n\nCarol"),
    ]
    out, refs = [], []
    for i, (sender, text) in enumerate(texts):
        msgid = "q1-roadmap-%d" % i
        subject = "Q1 roadmap: pick one theme" if i == 0 else "Re: Q1 roadmap: pick one theme"
        extra = ""
        if refs:
            extra = "In-Reply-To: <%s@demo.petrel>\r\nReferences: %s\r\n" % (
                refs[-1], " ".join("<%s@demo.petrel>" % r for r in refs))
        to = "Demo User <demo@example.org>, " + people[1] if sender != people[1] else people[0] + ", " + me
        raw = message(sender, to, subject, date(3 - i * 0.5, 9 + i, 5 * i), text, msgid, extra)
        sent = sender == me
        out.append((raw, "Sent" if sent else "Inbox", {"$seen": True} if sent or i < 3 else {}, date(3 - i * 0.5, 9 + i, 5 * i)))
        refs.append(msgid)
    return out


def newsletter():
    boundary = "petrel-alt-boundary"
    html = """<!doctype html><html><body style="font-family: Georgia, serif; margin:0">
<table width="100%" style="background:#0b3d91;color:#fff"><tr><td style="padding:24px">
<h1 style="margin:0">The Rust Weekly &middot; #612</h1><p>News from the Rust ecosystem</p></td></tr></table>
<img src="https://tracker.example.com/open.gif?u=demo" width="1" height="1" alt="">
<div style="padding:24px">
<h2>Leptos 0.8 lands signals everywhere</h2>
<p>The reactive system now powers everything from forms to routing.
<a href="https://example.com/leptos">Read the release notes</a>.</p>
<img src="https://images.example.com/banner.png" alt="Conference banner" width="560">
<h2>WebAssembly at the edge</h2>
<p>How teams ship the same wasm module to the browser, a worker and a CDN.</p>
<p style="color:#666;font-size:12px">You receive this because you subscribed.
<a href="https://example.com/unsubscribe">Unsubscribe</a></p>
</div></body></html>"""
    text = ("THE RUST WEEKLY #612\n\nLeptos 0.8 lands signals everywhere\nhttps://example.com/leptos\n\n"
            "WebAssembly at the edge\n\nUnsubscribe: https://example.com/unsubscribe\n")
    body = ("--%s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n"
            "--%s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n%s\r\n--%s--\r\n") % (
        boundary, text.replace("\n", "\r\n"), boundary, html.replace("\n", "\r\n"), boundary)
    when = date(0, 7, 30)
    raw = message("The Rust Weekly <news@rust-weekly.example>", "demo@example.org", "The Rust Weekly #612: signals everywhere",
                  when, body, "rust-weekly-612", "List-Unsubscribe: <https://example.com/unsubscribe>\r\n",
                  'multipart/alternative; boundary="%s"' % boundary, "7bit")
    return [(raw, "Inbox", {}, when)]


def invoice():
    boundary = "petrel-mixed-boundary"
    pdf, png = pdf_like(), png_pixel_art()

    def b64(data):
        enc = base64.b64encode(data).decode()
        return "\r\n".join(enc[i:i + 76] for i in range(0, len(enc), 76))
    body = ("--{b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\nPlease find attached invoice "
            "2026-0042 for the November hosting, and our new logo for your records.\r\n\r\nKind regards,\r\n"
            "Billing, Nimbus Hosting\r\n"
            "--{b}\r\nContent-Type: application/pdf; name=\"invoice-2026-0042.pdf\"\r\nContent-Disposition: attachment; "
            "filename=\"invoice-2026-0042.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{pdf}\r\n"
            "--{b}\r\nContent-Type: image/png; name=\"nimbus-logo.png\"\r\nContent-Disposition: attachment; "
            "filename=\"nimbus-logo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{png}\r\n--{b}--\r\n").format(
        b=boundary, pdf=b64(pdf), png=b64(png))
    when = date(1, 14, 12)
    raw = message("Nimbus Hosting Billing <billing@nimbus-hosting.example>", "demo@example.org",
                  "Invoice 2026-0042 for November", when, body, "invoice-2026-0042", "",
                  'multipart/mixed; boundary="%s"' % boundary, "7bit")
    return [(raw, "Inbox", {"$flagged": True}, when)]


def international():
    out = []
    # UTF-8 encoded-words in From and Subject (RFC 2047, B and Q encodings).
    when = date(0, 10, 45)
    raw = message("=?UTF-8?B?Wm/DqyDFoGlta292w6E=?= <zoe@example.cz>", "demo@example.org",
                  "=?UTF-8?Q?Caf=C3=A9_cr=C3=A8me_=E2=98=95_on_Thursday=3F?=", when,
                  "Ahoj! Shall we meet at the café on Thursday? I'll bring the crème brûlée recipe. ☕\n\nZoë",
                  "zoe-cafe")
    out.append((raw, "Inbox", {}, when))
    # ISO-8859-1 header and a quoted-printable ISO-8859-1 body.
    when = date(2, 16, 20)
    body = ("Hallo,\n\nviele Gr=FC=DFe aus M=FCnchen! Das Wetter ist sch=F6n, und die Wei=DFwurst war ausgezeichnet.\n\n"
            "Bis bald,\nJ=FCrgen").replace("\n", "\r\n").encode("ascii")
    raw = message("=?ISO-8859-1?Q?J=FCrgen_M=FCller?= <juergen@example.de>", "demo@example.org",
                  "=?ISO-8859-1?Q?Gr=FC=DFe_aus_M=FCnchen?=", when, body, "muenchen",
                  content_type="text/plain; charset=ISO-8859-1", transfer="quoted-printable")
    out.append((raw, "Inbox", {"$seen": True}, when))
    # KOI8-R body, 8bit.
    when = date(4, 11, 0)
    body = "Привет!\n\nОтчёт за ноябрь готов, посмотри, пожалуйста.\n\nДмитрий".replace("\n", "\r\n").encode("koi8-r")
    raw = message("=?KOI8-R?B?5M3J1NLJyg==?= <dmitry@example.ru>", "demo@example.org",
                  "=?UTF-8?B?0J7RgtGH0ZHRgiDQt9CwINC90L7Rj9Cx0YDRjA==?=", when, body, "otchet",
                  content_type="text/plain; charset=KOI8-R", transfer="8bit")
    out.append((raw, "Archive", {"$seen": True}, when))
    # ISO-2022-JP subject, Shift_JIS body.
    when = date(5, 8, 15)
    subject = "=?ISO-2022-JP?B?%s?=" % base64.b64encode("会議の議事録".encode("iso2022_jp")).decode()
    body = "田中さん\n\n会議の議事録を送ります。ご確認ください。\n\n佐藤".replace("\n", "\r\n").encode("shift_jis")
    raw = message("Sato Hanako <sato@example.jp>", "demo@example.org", subject, when, body, "gijiroku",
                  content_type="text/plain; charset=Shift_JIS", transfer="8bit")
    out.append((raw, "Inbox", {}, when))
    return out


def everyday():
    items = [
        ("Sam Patel <sam@example.com>", "Lunch on Friday?", "Thai place near the office at 12:30? I'll book.\n\nSam", "Inbox", {}, 0.1),
        ("Ops Team <ops@example.org>", "Planned maintenance: Saturday 02:00-04:00 UTC",
         "The mail cluster will be upgraded on Saturday between 02:00 and 04:00 UTC.\nExpect short interruptions.\n", "Inbox",
         {"$flagged": True, "$seen": True}, 1.5),
        ("TAP Air Portugal <noreply@flytap.example>", "Your booking LIS-7QX2 is confirmed",
         "Lisbon, 14 December, seat 12A. Check-in opens 36 hours before departure.\n", "Receipts", {"$seen": True}, 6),
        ("Bookshop <orders@bookshop.example>", "Your order has shipped",
         "\"Designing Data-Intensive Applications\" is on its way. Tracking: BK123456789.\n", "Receipts", {"$seen": True}, 8),
        ("Priya Raman <priya@example.com>", "Petrel: first wasm build size",
         "The release wasm is under 300 KB brotli with the JMAP core in. Nice!\n\nPriya", "Projects/Petrel", {}, 2),
        ("Priya Raman <priya@example.com>", "Petrel: service worker plan",
         "Precache the shell, never cache API responses. Draft in the wiki.\n", "Projects/Petrel", {"$seen": True}, 9),
        ("Lee Park <lee@example.com>", "Offsite venue options", "Three venues shortlisted; see the sheet.\n", "Projects",
         {"$seen": True}, 12),
        ("Prize Department <winner@lottery.example>", "YOU HAVE WON 1,000,000 EUR!!!",
         "Send your bank details to claim your prize.\n", "Junk", {}, 1),
        ("Old Newsletter <news@old.example>", "Last week's digest", "Nothing new.\n", "Trash", {"$seen": True}, 15),
        ("Alice Martin <alice@example.com>", "Re: Conference talk accepted",
         "Congratulations on the talk! Let me know if you want a dry run.\n", "Archive", {"$seen": True, "$answered": True}, 30),
    ]
    out = []
    for i, (sender, subject, text, folder, keywords, days) in enumerate(items):
        when = date(days, 9 + i % 8, (i * 7) % 60)
        out.append((message(sender, "Demo User <demo@example.org>", subject, when, text, "everyday-%d" % i),
                    folder, keywords, when))
    draft_when = date(0, 11, 0)
    draft = message("Demo User <demo@example.org>", "Sam Patel <sam@example.com>", "Re: Lunch on Friday?", draft_when,
                    "Sounds good, see you there!\n", "draft-lunch")
    out.append((draft, "Drafts", {"$seen": True, "$draft": True}, draft_when))
    return out


# The seeded folders by the role they play (RFC 8621 §2); servers name them differently
# (Stalwart: "Sent Items", "Deleted Items", "Junk Mail", and it has no Archive).
ROLES = {"Inbox": "inbox", "Archive": "archive", "Drafts": "drafts", "Sent": "sent", "Trash": "trash", "Junk": "junk"}


def seed(base_url, login, password):
    jmap = Jmap(base_url, login, password)
    acct = jmap.account
    boxes = jmap.call(("Mailbox/get", {"accountId": acct, "properties": ["name", "parentId", "role"]}))[0]["list"]
    by_role = {b["role"]: b["id"] for b in boxes if b.get("role")}
    by_name = {b["name"]: b["id"] for b in boxes if b["parentId"] is None}
    ids = {name: by_role.get(role, by_name.get(name)) for name, role in ROLES.items()}
    ids = {name: box for name, box in ids.items() if box}
    create = {"projects": {"name": "Projects", "parentId": None},
              "petrel": {"name": "Petrel", "parentId": "#projects"},
              "receipts": {"name": "Receipts", "parentId": None}}
    missing = [name for name in ROLES if name not in ids]
    for name in missing:
        create[name] = {"name": name, "parentId": None, "role": ROLES[name]}
    created = jmap.call(("Mailbox/set", {"accountId": acct, "create": create}))[0]["created"]
    ids["Projects"], ids["Projects/Petrel"], ids["Receipts"] = (
        created["projects"]["id"], created["petrel"]["id"], created["receipts"]["id"])
    for name in missing:
        ids[name] = created[name]["id"]

    mails = thread() + newsletter() + invoice() + international() + everyday()
    imports = {}
    for n, (raw, folder, keywords, when) in enumerate(mails):
        imports["m%d" % n] = {"blobId": jmap.upload(raw), "mailboxIds": {ids[folder]: True}, "keywords": keywords,
                              "receivedAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    jmap.call(("Email/import", {"accountId": acct, "emails": imports}))
    print("demo_mail: seeded %d messages into %s" % (len(mails), login), file=sys.stderr)


if __name__ == "__main__":
    seed(*sys.argv[1:4])
