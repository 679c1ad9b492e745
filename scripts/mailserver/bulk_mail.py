#!/usr/bin/env python3
"""Fills a folder with many generated messages quickly, through JMAP blob upload + Email/import.

  bulk_mail.py BASE_URL LOGIN PASSWORD COUNT [FOLDER]

Used for the big-mailbox tests and benchmarks. One kept-alive connection, imports in batches.
"""
import base64
import datetime
import http.client
import json
import sys
import time
import urllib.parse
import urllib.request

USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]
SENDERS = ["Ann Lee <ann@example.com>", "Bo Chen <bo@example.net>", "Carla Diaz <carla@example.org>",
           "Dev Ops <ops@example.com>", "Eve Park <eve@example.net>", "Frank Ito <frank@example.com>"]
TOPICS = ["budget", "release", "meeting", "invoice", "travel", "review", "deploy", "lunch", "report", "design"]


class Conn:
    def __init__(self, base_url, login, password):
        url = urllib.parse.urlsplit(base_url)
        self.http = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        self.auth = "Basic " + base64.b64encode(("%s:%s" % (login, password)).encode()).decode()
        # RFC 8620 discovery, redirects followed (Cyrus answers it with one to /jmap/).
        discovery = urllib.request.Request(base_url.rstrip("/") + "/.well-known/jmap", headers={"Authorization": self.auth})
        with urllib.request.urlopen(discovery, timeout=60) as resp:
            session = json.load(resp)
        self.account = session["primaryAccounts"]["urn:ietf:params:jmap:mail"]
        # Cyrus gives paths, Stalwart absolute URLs: this connection needs the path.
        self.api = urllib.parse.urlsplit(session["apiUrl"]).path
        self.upload_path = urllib.parse.urlsplit(session["uploadUrl"]).path.replace(
            "%7BaccountId%7D", "{accountId}").replace("{accountId}", urllib.parse.quote(self.account, safe="@"))

    def request(self, method, path, body=None, content_type="application/json", repeatable=True):
        """One HTTP request, its JSON answer. Cyrus may close a kept-alive connection: then it is
        sent again. A Cyrus httpd child sometimes dies mid-answer (an empty body): then it is sent
        again only when `repeatable` (uploads and reads are; a method call says for itself)."""
        for attempt in range(3):
            try:
                self.http.request(method, path, body=body, headers={"Authorization": self.auth, "Content-Type": content_type})
                resp = self.http.getresponse()
                data = resp.read()
                if resp.status >= 300:
                    raise SystemExit("bulk_mail: HTTP %d on %s: %s" % (resp.status, path, data[:200]))
                return json.loads(data)
            except (http.client.HTTPException, ConnectionError, json.JSONDecodeError) as e:
                self.http.close()
                if attempt == 2 or (isinstance(e, json.JSONDecodeError) and not repeatable):
                    raise
                time.sleep(0.2)

    def call(self, name, args, repeatable=False):
        """One method call. `repeatable`: sending it again is harmless. For Email/import, what
        a first try already stored comes back as alreadyExists, which counts as done."""
        body = json.dumps({"using": USING, "methodCalls": [[name, args, "0"]]}).encode()
        out = self.request("POST", self.api, body, repeatable=repeatable)["methodResponses"][0]
        failed = {k: v for k, v in (out[1].get("notCreated") or {}).items() if not (repeatable and v.get("type") == "alreadyExists")}
        if out[0] == "error" or failed:
            raise SystemExit("bulk_mail: %s failed: %s" % (name, json.dumps(out[1])[:500]))
        return out[1]


def message(n, when):
    sender = SENDERS[n % len(SENDERS)]
    topic = TOPICS[(n // 3) % len(TOPICS)]
    date = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    body = "Message %d about the %s.\r\nNumbers: %s\r\n" % (n, topic, " ".join(str(n * k) for k in range(1, 12)))
    return ("From: %s\r\nTo: Bulk <bulk@example.org>\r\nSubject: Bulk %05d: %s\r\nDate: %s\r\n"
            "Message-ID: <bulk-%d@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s"
            % (sender, n, topic, date, n, body)).encode()


def seed(base_url, login, password, count, folder="Bulk", batch=500):
    conn = Conn(base_url, login, password)
    acct = conn.account
    created = conn.call("Mailbox/set", {"accountId": acct, "create": {"bulk": {"name": folder, "parentId": None}}})
    box = created["created"]["bulk"]["id"]
    start = time.time()
    newest = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)
    pending = {}
    for n in range(count):
        when = newest - datetime.timedelta(minutes=7 * n)
        blob = conn.request("POST", conn.upload_path, message(n, when), "message/rfc822")["blobId"]
        keywords = {"$seen": True} if n % 4 else {}
        pending["m%d" % n] = {"blobId": blob, "mailboxIds": {box: True}, "keywords": keywords,
                              "receivedAt": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if len(pending) == batch or n == count - 1:
            conn.call("Email/import", {"accountId": acct, "emails": pending}, repeatable=True)
            pending = {}
    print("bulk_mail: %d messages into %s/%s in %.1f s" % (count, login, folder, time.time() - start), file=sys.stderr)


if __name__ == "__main__":
    seed(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), *(sys.argv[5:6]))
