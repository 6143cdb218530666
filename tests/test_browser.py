"""The explorer notebook in a real browser: Voila serves it, Chromium runs it.

Run explicitly (it is excluded from the default run):

    apt-get install chromium && pip install -e ".[tutorials,browser]"
    KERAS_BACKEND=jax python -m pytest -m browser

Playwright drives Debian's Chromium (`/usr/bin/chromium`, or the path in
`KERAS_DDE_CHROMIUM`), headless with `--no-sandbox`; it downloads nothing.
The test presses Train and sees the picture change (frames drawn in the
kernel's training thread reach the page), presses Stop, plays the recorded
frames (the Play-slider link runs in the browser), and exports a GIF
through the page, then finds it on disk.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import pytest

pytestmark = pytest.mark.browser

sync_api = pytest.importorskip("playwright.sync_api")
pytest.importorskip("voila")
import imageio.v3 as iio  # noqa: E402

NOTEBOOK = (
    Path(__file__).resolve().parents[1] / "tutorials" / "04_interactive_explorer.ipynb"
)
CHROMIUM = os.environ.get("KERAS_DDE_CHROMIUM", "/usr/bin/chromium")
SERVER_START_SECONDS = 60
# Voila executes the notebook (imports, a short training run) before the page.
PAGE_LOAD_MS = 150_000
WAIT_MS = 60_000


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def descendants(pid):
    """Ids of the processes started by `pid` (the kernels), from /proc."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def stop_server(process):
    """Stops Voila and the kernels it started: SIGTERM, then SIGKILL."""
    kernels = descendants(process.pid)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    for pid in kernels:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def explorer_url(tmp_path):
    """Serves a copy of the explorer notebook with Voila; yields its URL."""
    if not os.path.exists(CHROMIUM):
        # Selected explicitly (`-m browser`): a missing browser is a failure.
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium")
    notebook = tmp_path / NOTEBOOK.name  # The kernel runs, and writes, in tmp_path.
    shutil.copy(NOTEBOOK, notebook)
    port = free_port()
    env = dict(
        os.environ,
        KERAS_DDE_TUTORIAL_QUICK="1",
        KERAS_BACKEND=keras.backend.backend(),
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    log = open(tmp_path / "voila.log", "wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "voila", str(notebook), "--no-browser",
            f"--port={port}", "--Voila.ip=127.0.0.1",
            "--VoilaConfiguration.show_tracebacks=True",
        ],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(
                        "Voila did not start:\n"
                        + (tmp_path / "voila.log").read_text()[-3000:]
                    )
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop_server(process)
        log.close()


def frame_source(page):
    return page.locator("img.keras-dde-image").get_attribute("src")


def wait_for_new_frame(page, previous):
    page.wait_for_function(
        "previous => {"
        "  const img = document.querySelector('img.keras-dde-image');"
        "  return img && img.src && img.src !== previous;"
        "}",
        arg=previous,
        timeout=WAIT_MS,
    )


def test_train_stop_play_and_export_in_chromium(explorer_url, tmp_path):
    expect = sync_api.expect
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page()
            page.goto(explorer_url, timeout=PAGE_LOAD_MS, wait_until="domcontentloaded")
            train = page.locator("button.keras-dde-train-button")
            train.wait_for(timeout=PAGE_LOAD_MS)
            status = page.locator(".keras-dde-status")
            # The notebook's own short run from code has finished.
            expect(status).to_contain_text("Wrote", timeout=WAIT_MS)
            expect(train).to_be_enabled(timeout=WAIT_MS)

            # A long run, so that Stop has something to stop.
            epochs = page.locator(".keras-dde-epochs-text input")
            epochs.fill("100000")
            epochs.press("Enter")
            before = frame_source(page)
            assert before and before.startswith(("blob:", "data:"))
            train.click()
            expect(status).to_contain_text("Training epochs", timeout=WAIT_MS)
            wait_for_new_frame(page, before)  # A frame drawn during training.
            wait_for_new_frame(page, frame_source(page))  # And another.

            stop = page.locator("button.keras-dde-stop-button")
            clicked = time.monotonic()
            stop.click()
            expect(status).to_contain_text("Stopped after", timeout=WAIT_MS)
            assert time.monotonic() - clicked < 5.0
            expect(train).to_be_enabled()
            expect(stop).to_be_disabled()

            # Play scrubs the frames in the browser (jslink), from the start.
            page.locator(".keras-dde-frame-slider").wait_for()
            last = frame_source(page)
            page.locator(".keras-dde-play button").first.click()
            wait_for_new_frame(page, last)

            gif = tmp_path / "from_the_browser.gif"
            export_path = page.locator(".keras-dde-export-path-text input")
            export_path.fill(str(gif))
            export_path.press("Enter")
            page.locator("button.keras-dde-export-button").click()
            expect(status).to_contain_text(f"to {gif}", timeout=WAIT_MS)
        finally:
            browser.close()
    assert iio.imread(gif, index=None).shape[0] > 1
