"""Camera QR scanner for the till: @yudiel/react-qr-scanner wrapped as a Reflex component.

``qr_scanner(on_scan=TillState.camera_scan)`` renders a square viewfinder that reads QR codes
from the device camera and calls ``on_scan`` with the list of codes found, each a dict
``{"rawValue": str, "format": str}``.

How it works
- The React ``Scanner`` uses the browser's ``BarcodeDetector`` and, where there is none
  (Chromium on Linux and Windows, Firefox, older Safari), the ``barcode-detector`` ponyfill: the
  zxing-cpp decoder compiled to WebAssembly (``zxing-wasm``).
- That ponyfill loads ``zxing_reader.wasm`` from a public CDN by default. Here the file is
  bundled by Vite from the installed ``zxing-wasm`` package (``import url from
  "zxing-wasm/reader/zxing_reader.wasm?url"``, the way zxing-wasm documents it) and the
  decoder is pointed at it with ``setZXingModuleOverrides({locateFile})``: the app serves it
  itself at ``/assets/zxing_reader-<hash>.wasm``, content-hashed, cached like any build file,
  and the WebAssembly always matches the JavaScript glue that loads it. Nothing is fetched from
  another host.
- Versions are pinned exactly (below). ``barcode-detector`` pins ``zxing-wasm`` exactly and
  carries the expected SHA-256 of the wasm (``ZXING_READER_WASM_SHA256``, checked by
  tests/browser/test_camera_scan.py against the file the app serves).
- Camera constraints: the library's defaults demand at least 640x640, which many laptop
  webcams (640x480) cannot give ("overconstrained"); only an *ideal* size is asked for here.
- Controls: the finder frame, torch and zoom buttons when the camera has them (the library
  shows them only then), and a "switch camera" button when the device has more than one camera
  (cycles through the cameras by device id; the rear camera is tried first). A short built-in
  beep (a data URI inside the library, no download) confirms a read.
- Only QR codes are decoded (faster, no false reads of product barcodes on the counter); a code
  triggers ``on_scan`` once while it stays in view (``allowMultiple`` off); a new code, or the
  same one after it left the frame, triggers again. TillState also ignores repeats for a few
  seconds.
"""

from __future__ import annotations

import reflex as rx
from reflex_base.components.component import field

from loyalty_app.i18n import t

# npm packages (exact versions; Reflex installs them into its build folder).
REACT_QR_SCANNER = "@yudiel/react-qr-scanner@2.6.0"  # MIT
BARCODE_DETECTOR = "barcode-detector@3.2.2"  # MIT; re-exported by the scanner, pins zxing-wasm 3.1.3
ZXING_WASM = "zxing-wasm@3.1.3"  # MIT; the WebAssembly build of zxing-cpp (Apache-2.0)
ZXING_READER_WASM_SHA256 = "2ebda08a93eea3efcd8399cda6b276e6a0b1de4fec60b4d8988a047de4c6d1ba"  # dist/reader/zxing_reader.wasm

_WASM_URL_NAME = "loyaltyZxingReaderWasmUrl"

# Module-level JavaScript (deduplicated by Reflex, emitted once into the page module).
_CUSTOM_CODE = """
/* Till camera scanner (loyalty_app/components/qr_scanner.py). The zxing decoder loads its
 * WebAssembly from the app's own build files, never from a CDN. */
setZXingModuleOverrides({
  locateFile: (path, prefix) => (path.endsWith(".wasm") ? __WASM_URL_NAME__ : prefix + path),
});

const LOYALTY_QR_FORMATS = ["qr_code"];
const LOYALTY_QR_COMPONENTS = { finder: true, torch: true, zoom: true, onOff: false };
const LOYALTY_QR_SIZE = { width: { ideal: 720 }, height: { ideal: 720 } };
const LOYALTY_QR_STYLES = { container: { width: "100%", height: "100%" } };

function LoyaltyQrScanner({ onScan, switchLabel, unavailableLabel, ...rest }) {
  const box = useRef(null);
  const [cameras, setCameras] = useState([]);
  const [deviceId, setDeviceId] = useState("");
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    const media = typeof navigator !== "undefined" ? navigator.mediaDevices : undefined;
    const el = box.current;
    if (!media || !media.enumerateDevices || !el) return undefined;
    let live = true;
    const refresh = () => {
      media.enumerateDevices()
        .then((all) => { if (live) setCameras(all.filter((d) => d.kind === "videoinput" && d.deviceId)); })
        .catch(() => {});
    };
    const started = () => { setFailed(false); refresh(); };
    /* Device ids are only listed once the camera is allowed, so list again when video plays
     * ("playing" does not bubble: listen in the capture phase). */
    el.addEventListener("playing", started, true);
    if (media.addEventListener) media.addEventListener("devicechange", refresh);
    refresh();
    return () => {
      live = false;
      el.removeEventListener("playing", started, true);
      if (media.removeEventListener) media.removeEventListener("devicechange", refresh);
    };
  }, []);

  const constraints = useMemo(
    () => (deviceId ? { ...LOYALTY_QR_SIZE, deviceId: { exact: deviceId } } : { ...LOYALTY_QR_SIZE, facingMode: "environment" }),
    [deviceId],
  );

  const switchCamera = useCallback(() => {
    if (cameras.length < 2) return;
    /* The camera in use: the video's stream is set as soon as the camera opens (the
     * scanner's own handle only after it settled). */
    const video = box.current ? box.current.querySelector("video") : null;
    const stream = video && video.srcObject ? video.srcObject : null;
    const track = stream && stream.getVideoTracks ? stream.getVideoTracks()[0] : undefined;
    const current = (track && track.getSettings().deviceId) || deviceId;
    const at = cameras.findIndex((c) => c.deviceId === current);
    setDeviceId(cameras[(at + 1) % cameras.length].deviceId);
  }, [cameras, deviceId]);

  const handleScan = useCallback((codes) => {
    if (!onScan) return;
    onScan((codes || []).map((c) => ({ rawValue: String(c.rawValue ?? ""), format: String(c.format ?? "") })));
  }, [onScan]);

  const handleError = useCallback((error) => {
    setFailed(true);
    console.warn("camera scanner:", error && error.kind, error && error.message);
  }, []);

  return createElement(
    "div",
    { ...rest, ref: box },
    createElement(
      "div",
      { className: failed ? "qr-scanner-view is-failed" : "qr-scanner-view" },
      createElement(Scanner, {
        onScan: handleScan,
        onError: handleError,
        constraints,
        formats: LOYALTY_QR_FORMATS,
        components: LOYALTY_QR_COMPONENTS,
        styles: LOYALTY_QR_STYLES,
        allowMultiple: false,
        retryDelay: 250,
        sound: true,
      }),
    ),
    failed ? createElement("p", { className: "qr-scanner-unavailable", role: "alert" }, unavailableLabel) : null,
    cameras.length > 1
      ? createElement(
          "button",
          { type: "button", className: "btn btn-secondary btn-block qr-scanner-switch", onClick: switchCamera,
            "data-testid": "till-camera-switch" },
          switchLabel,
        )
      : null,
  );
}
""".replace("__WASM_URL_NAME__", _WASM_URL_NAME)


class LoyaltyQrScanner(rx.Component):
    """The wrapper defined in ``_CUSTOM_CODE`` around ``Scanner`` (no import of its own)."""

    tag = "LoyaltyQrScanner"
    library = None
    lib_dependencies: list[str] = [BARCODE_DETECTOR]

    switch_label: rx.Var[str] = field(doc="Text of the switch-camera button.")
    unavailable_label: rx.Var[str] = field(doc="Shown when the camera cannot start.")
    on_scan: rx.EventHandler[rx.event.passthrough_event_spec(list[dict])] = field(
        doc="Codes read from the camera: a list of {rawValue, format}."
    )

    def add_imports(self) -> dict:
        return {
            REACT_QR_SCANNER: ["Scanner", "setZXingModuleOverrides"],
            "react": ["createElement", "useCallback", "useEffect", "useMemo", "useRef", "useState"],
            # Vite copies the file into the build (content-hashed) and gives its URL.
            ZXING_WASM: rx.ImportVar(tag=_WASM_URL_NAME, is_default=True, package_path="/reader/zxing_reader.wasm?url"),
        }

    def add_custom_code(self) -> list[str]:
        return [_CUSTOM_CODE]


def qr_scanner(*, on_scan) -> rx.Component:
    """A square camera viewfinder that calls ``on_scan(codes)``; ``codes`` is a list of
    ``{"rawValue": ..., "format": ...}`` dicts."""
    return LoyaltyQrScanner.create(
        on_scan=on_scan,
        switch_label=t("Switch camera"),
        unavailable_label=t("The camera is not available. Allow camera access, or type the member number."),
        class_name="qr-scanner",
        data_testid="till-camera",
    )
