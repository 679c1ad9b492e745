"""A small W3C WebDriver client (stdlib only) for the end-to-end tests: drives Debian's Chromium
(chromedriver), Firefox ESR (geckodriver) or WebKitGTK's MiniBrowser (WebKitWebDriver, under Xvfb), for what wasm-bindgen-test cannot do from inside a page (reload it, open a
second tab, use the app as served)."""
import base64
import json
import os
import sys
import socket
import subprocess
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


class WebDriverError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(what, check, timeout=30, every=0.1):
    """Polls `check()` until it returns something truthy, which it returns."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every)
    raise AssertionError("timed out waiting for " + what)


ENGINES = ("chromium", "firefox", "webkit")


def engine_from_env():
    """The engine a test run drives: PETREL_BROWSER (chromium, firefox or webkit), Chromium by default."""
    engine = os.environ.get("PETREL_BROWSER", "chromium")
    if engine not in ENGINES:
        raise WebDriverError("PETREL_BROWSER=%r: expected one of %s" % (engine, ", ".join(ENGINES)))
    return engine


def ensure_display():
    """WebKitGTK has no headless mode: it draws into an X server. Starts Xvfb when there is no DISPLAY
    and returns its process (None when a display was already there)."""
    if os.environ.get("DISPLAY"):
        return None
    for number in range(90, 140):
        if os.path.exists("/tmp/.X11-unix/X%d" % number) or os.path.exists("/tmp/.X%d-lock" % number):
            continue
        proc = subprocess.Popen(["Xvfb", ":%d" % number, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline and proc.poll() is None:
            if os.path.exists("/tmp/.X11-unix/X%d" % number):
                os.environ["DISPLAY"] = ":%d" % number
                return proc
            time.sleep(0.05)
        proc.kill()
    raise WebDriverError("could not start Xvfb for WebKit")


def capabilities_for(engine):
    """What each driver is asked for: headless where the engine can be, no traffic off the machine."""
    with open(os.path.join(HERE, "..", "webdriver.json")) as f:
        shared = json.load(f)
    if engine == "chromium":
        chrome = shared["goog:chromeOptions"]
        chrome["args"] = chrome["args"] + ["--window-size=1280,900"]
        # Self-signed https on 127.0.0.1 (a list's one-click unsubscribe address in the journeys).
        return {"browserName": "chrome", "acceptInsecureCerts": True, "goog:chromeOptions": chrome}
    if engine == "firefox":
        firefox = shared["moz:firefoxOptions"]
        firefox["args"] = firefox["args"] + ["-width=1280", "-height=900"]
        # A 401 with WWW-Authenticate opens Firefox's sign-in prompt: dismissed, the page shows the answer.
        return {"browserName": "firefox", "acceptInsecureCerts": True, "unhandledPromptBehavior": "dismiss",
                "moz:firefoxOptions": firefox}
    return {"browserName": "MiniBrowser", "acceptInsecureCerts": True, "webkitgtk:browserOptions": shared["webkitgtk:browserOptions"]}


def driver_command(engine, port):
    if engine == "chromium":
        return [os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"), "--port=%d" % port]
    if engine == "firefox":
        # geckodriver's own log goes nowhere; it speaks only to 127.0.0.1.
        return [os.environ.get("GECKODRIVER", "geckodriver"), "--port", str(port), "--host", "127.0.0.1", "--log", "fatal"]
    return ["WebKitWebDriver", "--port=%d" % port, "--host=127.0.0.1"]


class Driver:
    """One WebDriver process and one browser session, in the engine PETREL_BROWSER names."""

    def __init__(self, engine=None):
        self.engine = engine or engine_from_env()
        self.display = ensure_display() if self.engine == "webkit" else None
        self.port = free_port()
        self.proc = subprocess.Popen(driver_command(self.engine, self.port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise WebDriverError("%s's WebDriver did not start" % self.engine)
        answer = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities_for(self.engine)}})
        self.session = answer["sessionId"]
        self.panics = []
        self.capabilities = answer["capabilities"]
        # Where Chromium's DevTools listen (for cdp.Cdp); other engines have none.
        self.debugger_address = self.capabilities.get("goog:chromeOptions", {}).get("debuggerAddress")
        if self.engine != "chromium":
            self.cmd("POST", "/window/rect", {"width": 1280, "height": 900})

    def _call(self, method, path, body=None):
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.load(response)["value"]
        except urllib.error.HTTPError as e:
            # `from None`: the cause is WebDriver's answer, not urllib's stack (CI shows a part of the log).
            raise WebDriverError("%s %s: %s" % (method, path, e.read().decode(errors="replace")[:500])) from None

    def cmd(self, method, path, body=None):
        return self._call(method, "/session/%s%s" % (self.session, path), body)

    def get(self, url):
        self._keep_panics()
        self.cmd("POST", "/url", {"url": url})

    # Petrel keeps each panic's message in the tab's sessionStorage (src/ui/panics.rs), where it
    # survives a reload; a journey collects them before its tab closes or leaves for another page.
    PANICS_KEY = "petrel.panics"

    def _keep_panics(self):
        try:
            found = self.run("try { const p = sessionStorage.getItem(arguments[0]); sessionStorage.removeItem(arguments[0]);"
                             " return p; } catch (e) { return null; }", self.PANICS_KEY)
        except WebDriverError:
            return
        if found:
            self.panics += json.loads(found)

    def take_panics(self):
        """Every panic Petrel reported since the last call, in this tab and in tabs closed since."""
        self._keep_panics()
        found, self.panics = self.panics, []
        return found

    def refresh(self):
        """Reloads as F5 does. WebDriver's own refresh is a forced reload in Firefox, which bypasses
        the service worker (the page never comes back controlled, nor from the cache offline)."""
        self.run("window.__beforeReload = true; setTimeout(() => location.reload(), 0)")
        self.wait_for("the reloaded page", lambda: self.run("return !window.__beforeReload && document.readyState === 'complete'"), 60)

    def run(self, script, *args):
        return self.cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def run_async(self, script, *args):
        """Runs `script` with a callback as its last argument; answers what it passes the callback."""
        return self.cmd("POST", "/execute/async", {"script": script, "args": list(args)})

    def keys(self, keys):
        """Types keys at the page (not into a field): W3C actions, one key at a time."""
        actions = []
        for k in keys:
            actions += [{"type": "keyDown", "value": k}, {"type": "keyUp", "value": k}]
        self.cmd("POST", "/actions", {"actions": [{"type": "key", "id": "kb", "actions": actions}]})

    def find(self, css):
        found = self.cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [Element(self, e[WEB_ELEMENT]) for e in found]

    def wait_for(self, what, find, timeout=30):
        """Polls `find()` until it returns something truthy; the page's text on failure."""
        try:
            return wait(what, find, timeout)
        except AssertionError as e:
            text = self.run("return document.body ? document.body.innerText : ''")
            raise AssertionError("%s; the page shows: %s" % (e, text[:2000]))

    def element(self, css, timeout=30):
        return self.wait_for(css, lambda: self.find(css), timeout)[0]

    def new_tab(self):
        # WebKit leaves a new tab hidden even once switched to (visibilityState "hidden", and a
        # screenshot of it never returns); a new window is shown, as the other engines' tabs are.
        kind = "window" if self.engine == "webkit" else "tab"
        return self.cmd("POST", "/window/new", {"type": kind})["handle"]

    def close_tab(self):
        """Closes the current tab (the page gets its pagehide, as when a user closes it)."""
        self._keep_panics()
        self.cmd("DELETE", "/window")

    def tabs(self):
        return self.cmd("GET", "/window/handles")

    def current_tab(self):
        return self.cmd("GET", "/window")

    def switch_to(self, handle):
        self.cmd("POST", "/window", {"handle": handle})

    def screenshot(self, path):
        data = self.cmd("GET", "/screenshot")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def quit(self):
        try:
            self.cmd("DELETE", "")
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self.display:
            self.display.terminate()


# The key WebDriver names an element reference by (W3C WebDriver, "web element identifier").
WEB_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class Element:
    def __init__(self, driver, id):
        self.driver, self.id = driver, id

    def click(self):
        self.driver.cmd("POST", "/element/%s/click" % self.id)

    def type(self, text):
        self.driver.cmd("POST", "/element/%s/value" % self.id, {"text": text})

    def clear(self):
        self.driver.cmd("POST", "/element/%s/clear" % self.id)

    @property
    def text(self):
        # The text as the page renders it (innerText), the same in every engine: WebKitWebDriver's
        # Get Element Text answers "7" for a folder button that shows an icon, "Inbox" and 7.
        return (self.driver.run("return arguments[0].innerText", {WEB_ELEMENT: self.id}) or "").strip()

    def attribute(self, name):
        return self.driver.cmd("GET", "/element/%s/attribute/%s" % (self.id, name))


def controlled(d, after_reload):
    """Waits until the service worker is active and controls the page. The first load is not
    controlled (no worker yet): then the page is reloaded and `after_reload(d)` brings it back."""
    d.run("return navigator.serviceWorker.ready.then(() => true)")
    if not d.run("return !!navigator.serviceWorker.controller"):
        d.refresh()
        after_reload(d)
    assert d.run("return !!navigator.serviceWorker.controller"), "the service worker controls the page"


def fill_sign_in(d, server, user, password):
    """Fills Petrel's sign-in form (server, username, password) and presses Sign in."""
    field = d.element("#server")
    field.clear()
    field.type(server)
    d.element("#username").clear()
    d.element("#username").type(user)
    d.element("#password").type(password)
    d.element("#sign-in-button").click()


def run_journeys_in_one_browser(journeys, what, artifacts, shot_prefix, first):
    """Runs `journeys` ((name, run) pairs) in order in one browser; `first` names the one the others
    build on (signing in), which runs whatever PETREL_JOURNEYS picks. Exits saying how many failed."""
    d = Driver()
    failed = 0
    try:
        for name, run in journeys:
            shot = os.path.join(artifacts, "%s-failed-%s.png" % (shot_prefix, name.split(",")[0].replace(" ", "-")))
            failed += not run_journey(d, name, run, shot, always=name == first)
    finally:
        d.quit()
    if failed:
        sys.exit("%d %s journeys failed" % (failed, what))
    print("%s journeys passed; screenshots in %s" % (what, artifacts))


def run_journey(d, name, run, screenshot, always=False):
    """Runs one journey, prints ok/FAIL with its time (and what it returned); on failure the
    traceback and a screenshot. A journey during which Petrel panicked fails, whatever it checked.
    Returns whether it passed."""
    import re
    import traceback
    # PETREL_JOURNEYS (a regular expression on the names) picks some journeys, while working on
    # them; `always` marks a journey the others build on (signing in).
    if not always and not re.search(os.environ.get("PETREL_JOURNEYS", ""), name):
        print("skip %s" % name)
        return True
    started = time.time()
    try:
        detail = run(d)
        panics = d.take_panics()
        assert not panics, "Petrel panicked during the journey: %s" % panics
        said = " (%s)" % detail if isinstance(detail, str) and "\n" not in detail else ""
        print("ok   %-50s %5.1f s%s" % (name, time.time() - started, said))
        return True
    except Exception as e:
        d.panics = []
        # The cause first, on the FAIL line: CI's record keeps only a part of a long log.
        print("FAIL %s: %s" % (name, ("%s: %s" % (type(e).__name__, e)).replace("\n", " ")[:300]))
        traceback.print_exc()
        try:
            d.screenshot(screenshot)
        except Exception as e:
            print("(no screenshot: %s)" % e)
        # After a panic the page asks to be reloaded (its banner covers the top bar): the next
        # journey starts from a clean page, as a user would.
        try:
            if d.find("#petrel-panic"):
                d.refresh()
        except Exception:
            pass
        return False


def check(engine):
    """`webdriver.py --check ENGINE`: starts the engine through its driver, runs a script, quits.
    scripts/setup ends with this for each engine, so a browser that cannot start fails set-up by name."""
    d = Driver(engine)
    try:
        d.get("data:text/html,<title>petrel</title><p>ok</p>")
        agent = d.run("return navigator.userAgent")
        assert d.run("return document.title") == "petrel", "the page did not load"
        return "%s %s (%s)" % (d.capabilities.get("browserName"), d.capabilities.get("browserVersion"), agent.split(")")[-1].strip())
    finally:
        d.quit()


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        print(check(sys.argv[2]))
    else:
        sys.exit("usage: webdriver.py --check chromium|firefox|webkit")
