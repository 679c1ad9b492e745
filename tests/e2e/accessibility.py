"""Accessibility checks in the page under test, in whichever engine runs the journey.

`audit` runs axe-core (npm, pinned in package.json) with the WCAG 2.1 A and AA rules on the page as
it is, and returns each violation as a line. Not audited: the content of the mail frame. It is the
sender's HTML (its colours, its images without alt text), which Petrel shows sanitized but does not
rewrite; the frame element itself, its title and the reader's chrome around it are audited, colour
contrast included, in both themes.

`Announcements` records what the status announcer (#announcer, the page's one live region for what
happens without a click) says, as a screen reader reads it: each change of its text.
"""
import os

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
AXE = os.path.join(ROOT, "node_modules", "axe-core", "axe.min.js")
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Rules left out, each with its reason. None: every WCAG 2.1 A/AA rule axe-core has applies.
EXCEPTIONS = {}

_source = None


def _axe_source():
    global _source
    if _source is None:
        with open(AXE, encoding="utf-8") as f:
            _source = f.read()
    return _source


def audit(d, screen):
    """axe-core's WCAG 2.1 A/AA violations on the page as it shows now: one line each, prefixed
    with `screen`; empty when there is none."""
    if not d.run("return !!window.axe"):
        # WebDriver's scripts run outside the page's Content-Security-Policy, which allows no
        # script but the app's own.
        d.run(_axe_source() + "\n;return !!window.axe")
    found = d.run_async(
        "const [tags, skip, done] = arguments;"
        "const rules = Object.fromEntries(skip.map(id => [id, {enabled: false}]));"
        "axe.run(document, {runOnly: {type: 'tag', values: tags}, rules, iframes: false, resultTypes: ['violations']})"
        "  .then(r => done({passed: r.passes.length, violations: r.violations.map(v => ({id: v.id, help: v.help,"
        "     nodes: v.nodes.map(n => n.target.join(' ') + (n.any.concat(n.all, n.none).map(c => ' | ' + c.message).join('')))}))}),"
        "        e => done({passed: 0, violations: [{id: 'axe-error', help: String(e), nodes: []}]}));",
        WCAG_21_AA, sorted(EXCEPTIONS))
    # An audit that checked nothing (axe not reaching the page) must not pass for a clean one.
    assert found["passed"] >= 10, "%s: axe-core checked only %d rules" % (screen, found["passed"])
    lines = []
    for v in found["violations"]:
        nodes = v["nodes"]
        lines.append("%s: %s (%s) x%d: %s" % (screen, v["id"], v["help"], len(nodes), "; ".join(nodes[:3])))
    return lines


class Announcements:
    """Records each text the announcer says from now on (a MutationObserver in the page)."""

    def __init__(self, d):
        self.d = d
        d.run(
            "const a = document.getElementById('announcer');"
            "if (!a) throw new Error('no #announcer in the page');"
            "window.__said = [];"
            "if (window.__sayObserver) window.__sayObserver.disconnect();"
            "window.__sayObserver = new MutationObserver(() => { const t = a.textContent.trim(); if (t) window.__said.push(t); });"
            "window.__sayObserver.observe(a, {childList: true, characterData: true, subtree: true});")

    def said(self):
        return self.d.run("return window.__said || []")

    def wait_for(self, what, predicate, timeout=30):
        """Waits until something said matches `predicate`; returns what was said."""
        try:
            return self.d.wait_for("the announcer to say %s" % what,
                                   lambda: [t for t in self.said() if predicate(t)], timeout)
        except AssertionError as e:
            raise AssertionError("%s\nthe announcer said: %s" % (e, self.said()))
