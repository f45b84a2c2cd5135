"""Open a map in headless Chromium over the DevTools protocol (a pipe, no port): check, time, shoot.

Used by the browser test and ``benchmarks/map.py``. The network is off: every request the
page makes is recorded, and only ``file:``/``data:``/``about:`` URLs load. Dialogs
(``alert``) are recorded and dismissed; console errors and uncaught exceptions are kept.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

# The flags of the project's browser test (Makefile `chromium` target installs Debian's).
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars", "--mute-audio",
)
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:", "chrome-error:", "devtools:")


def chromium_path() -> str:
    """Return the Chromium executable (``chromium`` or ``chromium-browser`` on PATH).

    Raises
    ------
    FileNotFoundError
        When neither is installed (``make chromium`` installs Debian's).
    """
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise FileNotFoundError("Chromium is required: `make chromium` installs it with apt-get")
    return path


class Chromium:
    """A headless Chromium page driven over ``--remote-debugging-pipe``.

    Use as a context manager; :meth:`open` loads a page, :meth:`eval` runs JavaScript,
    :attr:`requests`, :attr:`errors` and :attr:`dialogs` record what the page did.
    """

    def __init__(self, *, width: int = 1600, height: int = 1000, offline: bool = True,
                 executable: str | None = None, timeout: float = 60.0) -> None:
        self.width, self.height, self.offline, self.timeout = width, height, offline, timeout
        self._profile = tempfile.mkdtemp(prefix="cfplan-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: the protocol's fds 3 (in) and 4 (out)
            high_in = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        self.proc = subprocess.Popen(
            [executable or chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}",
             f"--window-size={width},{height}", "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, pass_fds=(3, 4), close_fds=True)
        os.close(to_child_r)
        os.close(from_child_w)
        self._next = 0
        self._replies: dict[int, dict[str, object]] = {}
        self._cond = threading.Condition()
        self.events: queue.Queue[dict[str, object]] = queue.Queue()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self._loaded = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = str(self.send("Target.attachToTarget",
                                     {"targetId": target, "flatten": True})["sessionId"])
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        if offline:
            self.call("Network.emulateNetworkConditions",
                      {"offline": True, "latency": 0, "downloadThroughput": -1,
                       "uploadThroughput": -1})

    # ------------------------------------------------------------------ protocol

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_child, 1 << 20)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._cond:
                        self._replies[int(msg["id"])] = msg
                        self._cond.notify_all()
                else:
                    self._event(msg)

    def _event(self, msg: dict[str, object]) -> None:
        method = msg.get("method")
        params = msg.get("params") or {}
        assert isinstance(params, dict)
        if method == "Network.requestWillBeSent":
            self.requests.append(str(params["request"]["url"]))
        elif method == "Runtime.exceptionThrown":
            d = params["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("exception", {}).get(
                "value") or d.get("text")
            self.errors.append(f"exception: {text} (line {d.get('lineNumber')}, "
                               f"column {d.get('columnNumber')})")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.errors.append(f"console.{params['type']}: {args}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            self.errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        elif method == "Page.javascriptDialogOpening":
            self.dialogs.append(str(params.get("message")))
            threading.Thread(target=self.call, args=("Page.handleJavaScriptDialog",
                                                     {"accept": False}), daemon=True).start()
        elif method == "Page.loadEventFired":
            self._loaded.set()
        self.events.put(msg)

    def send(self, method: str, params: dict[str, object] | None = None, *,
             session: str | None = None) -> dict[str, object]:
        """Send one protocol command and return its result.

        Raises
        ------
        RuntimeError
            When the browser answers with an error.
        TimeoutError
            When it does not answer within the timeout.
        """
        with self._cond:
            self._next += 1
            mid = self._next
        msg: dict[str, object] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode("utf-8") + b"\0")
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while mid not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(method)
                self._cond.wait(left)
            reply = self._replies.pop(mid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result = reply.get("result") or {}
        assert isinstance(result, dict)
        return result

    def call(self, method: str, params: dict[str, object] | None = None) -> dict[str, object]:
        """Send a command to the page (its session) and return the result."""
        return self.send(method, params, session=self.session)

    # ------------------------------------------------------------------ page

    def open(self, url: str | Path, *, timeout: float | None = None) -> float:
        """Load ``url`` (a path or URL) and wait for its load event.

        Returns
        -------
        float
            Seconds from the navigation to the load event.
        """
        if isinstance(url, Path):
            url = url.resolve().as_uri()
        self._loaded.clear()
        start = time.perf_counter()
        self.call("Page.navigate", {"url": url})
        if not self._loaded.wait(timeout or self.timeout):
            raise TimeoutError(f"no load event for {url}")
        return time.perf_counter() - start

    def eval(self, expression: str, *, await_promise: bool = True) -> object:
        """Evaluate JavaScript in the page and return its value (JSON-like).

        Raises
        ------
        RuntimeError
            When the expression throws.
        """
        res = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": await_promise})
        if "exceptionDetails" in res:
            details: Any = res["exceptionDetails"]
            raise RuntimeError(str(details.get("exception", {}).get("description") or details))
        result: Any = res.get("result", {})
        return result.get("value")

    def wait_for(self, expression: str, *, timeout: float = 20.0) -> object:
        """Poll ``expression`` until it is truthy; return its value.

        Raises
        ------
        TimeoutError
            When it stays falsy.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(expression)
            time.sleep(0.05)

    def resize(self, width: int, height: int) -> None:
        """Set the page's viewport size in CSS pixels."""
        self.width, self.height = width, height
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def click(self, x: float, y: float) -> None:
        """Click with the mouse at viewport point ``(x, y)``."""
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                   "button": "left", "clickCount": 1})

    def click_selector(self, selector: str) -> None:
        """Click the centre of the first element matching ``selector``."""
        box = self.eval(f"(function(){{var r=document.querySelector({json.dumps(selector)})"
                        ".getBoundingClientRect();return [r.x+r.width/2,r.y+r.height/2];})()")
        assert isinstance(box, list)
        self.click(float(box[0]), float(box[1]))

    def type_text(self, text: str) -> None:
        """Type ``text`` into the focused element as an input method commits it.

        The text is inserted, then an IME ``Process`` key (code 229) is released, so that
        ``keyup`` handlers (leaflet-search's) run as they do after Chinese input.
        """
        self.call("Input.insertText", {"text": text})
        self.call("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Process",
                                             "windowsVirtualKeyCode": 229})

    def screenshot(self, path: str | Path) -> Path:
        """Save a PNG of the viewport to ``path``."""
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(str(data)))
        return path

    def remote_requests(self) -> list[str]:
        """Return every requested URL that is not local (``file:``, ``data:`` …)."""
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES)]

    def close(self) -> None:
        """End the browser and remove its profile."""
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


__all__ = ["CHROMIUM_FLAGS", "LOCAL_SCHEMES", "Chromium", "chromium_path"]
