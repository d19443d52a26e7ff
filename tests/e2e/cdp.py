"""A small Chrome DevTools Protocol driver for headless Chromium (no browser download, no extra package).

Just what the UI test needs: navigate, evaluate JavaScript, wait for a condition, click by text, type
into React inputs, take screenshots. Uses ``websockets`` (installed with Airflow).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from .harness import free_port

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)

# Finds the visible element whose own text (or aria-label) matches, preferring buttons and links.
_FIND_BY_TEXT = """
(text, selector, last) => {
  const wanted = text.toLowerCase();
  const nodes = Array.from(document.querySelectorAll(selector));
  const visible = nodes.filter(n => n.offsetParent !== null || n.getClientRects().length > 0);
  const label = n => ((n.innerText || '') + ' ' + (n.getAttribute('aria-label') || '')).trim().toLowerCase();
  const exact = visible.filter(n => label(n) === wanted);
  const partial = visible.filter(n => label(n).includes(wanted));
  const pool = exact.length ? exact : partial;
  return pool.length ? pool[last ? pool.length - 1 : 0] : null;
}
"""


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol.

    :param user_data_dir: a throwaway profile directory.
    """

    def __init__(self, user_data_dir: Path) -> None:
        self.user_data_dir = user_data_dir
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._ws: ClientConnection | None = None
        self._next_id = 0

    def __enter__(self) -> Browser:
        self._process = subprocess.Popen(
            [
                str(CHROMIUM),
                *FLAGS,
                f"--user-data-dir={self.user_data_dir}",
                f"--remote-debugging-port={self.port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                targets = httpx.get(f"http://127.0.0.1:{self.port}/json/list", timeout=2).json()
                pages = [target for target in targets if target.get("type") == "page"]
                if pages:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.2)
        self._ws = connect(pages[0]["webSocketDebuggerUrl"], max_size=None, open_timeout=10)
        self.send("Page.enable")
        self.send("Runtime.enable")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._ws is not None:
            self._ws.close()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        shutil.rmtree(self.user_data_dir, ignore_errors=True)

    def send(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Send one DevTools command and return its result (events arriving meanwhile are dropped)."""
        assert self._ws is not None, "use the browser as a context manager"
        self._next_id += 1
        message_id = self._next_id
        self._ws.send(json.dumps({"id": message_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def navigate(self, url: str) -> None:
        """Open ``url`` and wait until the document has loaded."""
        self.send("Page.navigate", {"url": url})
        self.wait_for("document.readyState === 'complete'", timeout=30)

    def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page (promises awaited) and return its JSON value."""
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, what: str = "") -> Any:
        """Poll a JavaScript expression until it is truthy; return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or expression}")
            time.sleep(0.3)

    def text(self) -> str:
        """The visible text of the page."""
        return str(self.evaluate("document.body ? document.body.innerText : ''"))

    def wait_for_text(self, text: str, timeout: float = 30.0) -> None:
        """Wait until the page shows ``text``."""
        self.wait_for(f"document.body && document.body.innerText.includes({json.dumps(text)})", timeout, text)

    def click_text(
        self, text: str, selector: str = "button, a, [role=button], [role=tab]", last: bool = False
    ) -> None:
        """Click the visible element labelled ``text`` (exact matches first, then containing it).

        :param last: click the last match in document order (e.g. the button of a dialog that opened
            over a page having a button with the same label).
        """
        call = f"({_FIND_BY_TEXT})({json.dumps(text)}, {json.dumps(selector)}, {json.dumps(last)})"
        self.wait_for(f"!!{call}", what=f"a {text!r} element")
        # A real mouse click at the element's centre: some widgets ignore a synthetic element.click().
        x, y = self.evaluate(
            f"""(() => {{
              const el = {call};
              el.scrollIntoView({{block: 'center'}});
              const box = el.getBoundingClientRect();
              return [box.left + box.width / 2, box.top + box.height / 2];
            }})()"""
        )
        for event in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": event, "x": x, "y": y, "button": "left", "clickCount": 1},
            )

    def fill(self, css: str, value: str) -> None:
        """Type into a React-controlled input or textarea (native setter + input event, as a user would)."""
        self.wait_for(f"!!document.querySelector({json.dumps(css)})", what=css)
        self.evaluate(
            f"""(() => {{
              const el = document.querySelector({json.dumps(css)});
              const proto = el.tagName === 'TEXTAREA'
                ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
              Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, {json.dumps(value)});
              el.dispatchEvent(new Event('input', {{bubbles: true}}));
              el.dispatchEvent(new Event('change', {{bubbles: true}}));
            }})()"""
        )

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the page."""
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
