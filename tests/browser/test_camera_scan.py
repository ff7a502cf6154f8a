"""The till's camera path, end to end, with a real (fake-device) camera in Chromium.

The member's phone shows its card QR; the QR is read back from the screenshot (zxing-cpp, an
independent decoder), turned into a Y4M video, and a second Chromium uses that video as its
camera. The cashier opens the camera on the till, the app's scanner (@yudiel/react-qr-scanner
with the zxing WebAssembly decoder served by the app itself) reads the code, the member shows up,
and a purchase is credited. No request may leave localhost: there is no internet here, and a
scanner that fetches its decoder from a CDN would fail in a shop with a flaky connection too.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from urllib.parse import urlsplit

import pytest
from PIL import Image
from playwright.sync_api import expect

from loyalty_app.components.qr_scanner import ZXING_READER_WASM_SHA256
from tests.browser import harness
from tests.browser.fake_camera import camera_args, frame_of, write_y4m
from tests.browser.test_member_flows import sign_in

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}
MEMBER_EMAIL, MEMBER_NAME = "member@demo.test", "Ana Popescu"


def _member_code_and_qr(browser, base_url: str, screenshot) -> tuple[str, Image.Image]:
    """Sign the member in, open the card, and read the QR the app shows (text and pixels)."""
    import zxingcpp

    context = browser.new_context(base_url=base_url, **harness.MOBILE_CONTEXT)
    try:
        page = context.new_page()
        sign_in(page, "cafe", MEMBER_EMAIL)
        page.wait_for_url("**/m/cafe/home")
        page.goto("/m/cafe/card")
        qr = page.get_by_test_id("member-qr")
        expect(qr).to_be_visible()
        page.wait_for_timeout(300)  # the image is decoded and painted
        picture = Image.open(io.BytesIO(qr.screenshot())).convert("RGB")
        screenshot(page, "camera-scan-member-card")
    finally:
        context.close()
    decoded = zxingcpp.read_barcodes(picture)
    assert len(decoded) == 1, "the card must show exactly one readable QR"
    assert decoded[0].text.startswith("LM1."), decoded[0].text
    return decoded[0].text, picture


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-extension"):
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


def test_till_camera_reads_the_member_card_and_credits(browser, playwright_instance, live_app, tmp_path, screenshot):
    _code, picture = _member_code_and_qr(browser, live_app.base_url, screenshot)

    # The code lives 60 s and works once: the video is made right before the camera browser starts.
    video = write_y4m(tmp_path / "member-card.y4m", frame_of(picture))
    camera_browser = playwright_instance.chromium.launch(
        executable_path=harness.CHROMIUM, args=[*harness.CHROMIUM_ARGS, *camera_args(video)], headless=True
    )
    try:
        context = camera_browser.new_context(base_url=live_app.base_url, permissions=["camera"], **harness.MOBILE_CONTEXT)
        context.set_default_timeout(20_000)
        requests: list[str] = []
        wasm_responses = []
        context.on("request", lambda request: requests.append(request.url))
        context.on(
            "response",
            lambda response: wasm_responses.append(response) if urlsplit(response.url).path.endswith(".wasm") else None,
        )
        # Anything addressed to another host is refused (and recorded above) instead of hanging.
        context.route(lambda url: not _is_local(url), lambda route: route.abort())
        page = context.new_page()
        console: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("websocket", lambda ws: requests.append(ws.url))

        sign_in(page, "cafe", "staff@demo.test")
        page.wait_for_url("**/m/cafe/staff")
        expect(page.get_by_role("heading", name="Till")).to_be_visible()

        toggle = page.get_by_test_id("till-camera-toggle")
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
        expect(page.locator("[data-testid=till-camera] video")).to_be_visible()

        try:
            expect(page.get_by_test_id("till-member")).to_have_text(MEMBER_NAME, timeout=30_000)
        except AssertionError:
            harness.screenshot(page, "FAILED-camera-scan-no-member")
            pytest.fail("the camera did not identify the member.\nBrowser console:\n" + "\n".join(console[-30:]))
        page.wait_for_timeout(300)
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, "till-camera-scan")

        # The viewfinder is square and fits the phone's width.
        box = page.locator(".qr-scanner-view").bounding_box()
        assert box is not None and abs(box["width"] - box["height"]) <= 1, box
        assert box["width"] <= 390 - 2 * 16, box

        # The decoder came from the app itself, and it is the build the JavaScript expects.
        assert wasm_responses, "the zxing WebAssembly was never loaded"
        wasm = wasm_responses[0]
        assert urlsplit(wasm.url).netloc == urlsplit(live_app.base_url).netloc, wasm.url
        assert wasm.ok, (wasm.status, wasm.url)
        assert hashlib.sha256(wasm.body()).hexdigest() == ZXING_READER_WASM_SHA256

        page.fill("#f-amount", "9.80")
        page.fill("#f-receipt", f"CAM-{uuid.uuid4().hex[:6]}")
        page.get_by_test_id("till-credit").click()
        expect(page.get_by_test_id("till-result")).to_have_text(re.compile(r"^\+\d+ points"))
        page.wait_for_timeout(200)
        page.evaluate("window.scrollTo(0, 0)")
        screenshot(page, "till-camera-credited")

        # The same (single-use) code still in front of the camera is not taken a second time
        # while it stays in view: the member is not replaced by an "already used" error.
        page.wait_for_timeout(1500)
        expect(page.get_by_test_id("form-error")).to_have_count(0)

        outside = sorted({url for url in requests if not _is_local(url)})
        assert not outside, f"requests left localhost: {outside}"

        toggle.click()  # closing the camera removes the viewfinder (the library stops the stream)
        expect(page.get_by_test_id("till-camera")).to_have_count(0)
    finally:
        camera_browser.close()


def _open_till_camera(page) -> None:
    sign_in(page, "cafe", "staff@demo.test")
    page.wait_for_url("**/m/cafe/staff")
    page.get_by_test_id("till-camera-toggle").click()


def test_till_camera_unavailable_says_what_to_do(page, screenshot):
    """No camera (or no permission): a clear message, and typing the number still works."""
    _open_till_camera(page)
    expect(page.locator("[data-testid=till-camera] [role=alert]")).to_contain_text("The camera is not available")
    expect(page.get_by_test_id("till-code")).to_be_editable()
    screenshot(page, "till-camera-unavailable")


def test_till_camera_switches_between_cameras(playwright_instance, live_app, screenshot):
    """On a laptop-sized till with two cameras: a square viewfinder, and a switch button that
    moves the stream to the other camera and back."""
    two_cameras = playwright_instance.chromium.launch(
        executable_path=harness.CHROMIUM,
        headless=True,
        args=[*harness.CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream=device-count=2"],
    )
    active_camera = """() => {
        const video = document.querySelector('[data-testid=till-camera] video');
        const track = video && video.srcObject ? video.srcObject.getVideoTracks()[0] : null;
        return track && track.readyState === 'live' ? track.getSettings().deviceId : '';
    }"""
    try:
        context = two_cameras.new_context(
            base_url=live_app.base_url, permissions=["camera"], viewport={"width": 1280, "height": 800}, locale="en-US"
        )
        context.set_default_timeout(20_000)
        page = context.new_page()
        _open_till_camera(page)
        switch = page.get_by_test_id("till-camera-switch")
        expect(switch).to_have_text("Switch camera")
        page.wait_for_function(f"({active_camera})() !== ''")
        box = page.locator(".qr-scanner-view").bounding_box()
        assert box is not None and abs(box["width"] - box["height"]) <= 1 and 280 <= box["width"] <= 420, box
        page.wait_for_timeout(600)  # a few frames of the fake camera's test pattern
        screenshot(page, "till-camera-laptop")
        first = page.evaluate(active_camera)
        switch.click()
        page.wait_for_function(
            f"(first) => {{ const now = ({active_camera})(); return now !== '' && now !== first; }}", arg=first
        )
        switch.click()
        page.wait_for_function(f"(first) => ({active_camera})() === first", arg=first)
    finally:
        two_cameras.close()
