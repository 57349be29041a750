"""`artlang watch` end to end in a real headless chromium: the preview shows the image, follows
edits, shows and clears errors, and its param slider and reset button re-render the sketch (the
page's POSTs pass the server's Host, Origin and token checks); Ctrl-C ends it all.

Skipped when /usr/bin/chromium or the playwright package is missing, except under CI (where the
environment variable CI is set), where that is a failure."""
from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WAIT_MS = 10_000

SKETCH = """canvas 64 x 64
param radius = 0.3 in 0.1..0.9 "the disc's radius"
output fill(circle(uv, radius), {colour})
"""
BROKEN = "canvas 64 x 64\nparam radius = 0.3 in 0.1..0.9\noutput fill(circle(uv, radius) #ff0000)\n"

RED, BLUE, CLEAR = [255, 0, 0, 255], [0, 0, 255, 255], [0, 0, 0, 0]
CENTRE, EDGE = (32, 32), (8, 32)       # EDGE is inside a disc of radius 0.8, outside one of 0.3

# JS: the shown image, its generation, and the RGBA of one of its pixels
SHOWN = """([x, y]) => {
  const image = document.getElementById("image");
  if (!image.complete || !image.naturalWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = image.naturalWidth; canvas.height = image.naturalHeight;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  return {generation: Number(image.dataset.generation), src: image.src,
          pixel: Array.from(context.getImageData(x, y, 1, 1).data)};
}"""


def require_browser():
    problem = None
    if not Path(CHROMIUM).is_file():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright Python package is missing (pip install playwright)"
    if problem and os.environ.get("CI"):
        pytest.fail(f"{problem}; CI must run the browser test")
    if problem:
        pytest.skip(problem)


class Watch:
    """`python -m artlang watch sketch.art --port 0` in its own process group, output collected."""

    def __init__(self, folder: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "artlang", "watch", "sketch.art", "--port", "0"], cwd=folder,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self.readers = [threading.Thread(target=self._read, args=(stream,), daemon=True)
                        for stream in (self.process.stdout, self.process.stderr)]
        for reader in self.readers:
            reader.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.output.append(line)
            if stream is self.process.stdout:
                self.lines.put(line)

    def preview_url(self, timeout: float = 20.0) -> str:
        try:
            while True:
                line = self.lines.get(timeout=timeout)
                if match := re.match(r"preview: (http://127\.0\.0\.1:\d+/)$", line.strip()):
                    return match[1]
        except queue.Empty:
            raise AssertionError("no `preview:` line; the command said:\n" + self.said()) from None

    def said(self) -> str:
        return "".join(self.output)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def sketch(tmp_path):
    path = tmp_path / "sketch.art"
    path.write_text(SKETCH.format(colour="#ff0000"), encoding="utf-8")
    return path


@pytest.fixture
def watch(sketch):
    watch = Watch(sketch.parent)
    yield watch
    watch.kill()
    for reader in watch.readers:
        reader.join(5)


@pytest.fixture
def browser():
    require_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_the_preview_follows_the_sketch(browser, watch, sketch):
    from playwright.sync_api import expect

    url = watch.preview_url()
    page = browser.new_page()
    page.goto(url)

    def shown(at=CENTRE) -> dict:
        return page.evaluate(SHOWN, list(at))

    def shown_once(pixel: list[int], at=CENTRE, after: int = 0) -> dict:
        """Wait until an image newer than generation `after` shows `pixel` at `at`."""
        page.wait_for_function(f"(at) => {{ const s = ({SHOWN})(at); return s && s.generation > "
                               f"{after} && s.pixel.join() === '{','.join(map(str, pixel))}'; }}",
                               arg=list(at), timeout=WAIT_MS)
        return shown(at)

    # the first render appears
    first = shown_once(RED)
    assert first["src"].startswith(f"{url}frame/")
    assert shown(EDGE)["pixel"] == CLEAR

    # an edit shows without a reload
    sketch.write_text(SKETCH.format(colour="#0000ff"), encoding="utf-8")
    blue = shown_once(BLUE, after=first["generation"])
    assert blue["src"] != first["src"]

    # a syntax error: the overlay with the diagnostic, over the last good image
    sketch.write_text(BROKEN, encoding="utf-8")
    overlay = page.locator("#error-overlay")
    expect(overlay).to_be_visible(timeout=WAIT_MS)
    expect(overlay).to_contain_text(re.compile(r"sketch\.art:3:\d+: error"), timeout=WAIT_MS)
    expect(page.locator("#image")).to_have_class(re.compile(r"\bdimmed\b"))
    assert shown() == blue

    # fixed: the overlay goes
    sketch.write_text(SKETCH.format(colour="#0000ff"), encoding="utf-8")
    expect(overlay).to_be_hidden(timeout=WAIT_MS)

    # the slider re-renders, and the file on disk follows
    slider = page.locator('input[data-param="radius"]')
    expect(slider).to_have_attribute("type", "range")
    slider.fill("0.8")
    shown_once(BLUE, at=EDGE, after=blue["generation"])
    with Image.open(sketch.with_suffix(".png")) as written:
        assert list(written.convert("RGBA").getpixel(EDGE)) == BLUE
    expect(page.locator("#status")).not_to_contain_text("disconnected")

    # reset: back to the sketch's radius (the page's POSTs carry its token)
    large = shown(EDGE)
    page.locator("#reset-params").click()
    shown_once(CLEAR, at=EDGE, after=large["generation"])
    expect(page.locator(".param-error")).to_be_hidden()

    # Ctrl-C: the command ends promptly and cleanly, with the page still connected
    watch.process.send_signal(signal.SIGINT)
    try:
        code = watch.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        raise AssertionError("watch did not stop within 10 s of Ctrl-C") from None
    assert code == 0, watch.said()
    with pytest.raises(ProcessLookupError):
        os.killpg(watch.process.pid, 0)                   # no process of its group is left
    expect(page.locator("#status")).to_contain_text("disconnected", timeout=WAIT_MS)
