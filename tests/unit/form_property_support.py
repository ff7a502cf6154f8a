"""Helpers shared by the form property tests (test_form_properties*.py): Hypothesis settings,
the database snapshot a refused input must leave alone, and strategies of hostile input."""

from __future__ import annotations

import asyncio
import io
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, inspect
from sqlmodel import SQLModel, select

from loyalty_app.db import read_session
from loyalty_app.models import LedgerEntry, MemberBalance
from loyalty_app.state.forms import GENERIC_ERROR
from tests.unit.test_states import run

# Rows a refusal may write on purpose: audit of refusals, sign-in attempts, sessions, and the
# fraud flag a manager must check when the till's velocity limit refuses a credit.
NOISY_TABLES = {"securityevent", "liveclient", "authsession", "loginattempt", "appmeta", "fraudflag"}
# PostgreSQL runs a third of the examples: where it differs from SQLite is in what it stores
# (NUL, number ranges), and the hostile strategies list those edge cases first. Keeps CI short.
EXAMPLE_SHARE = {"sqlite": 1.0, "postgresql": 1 / 3}
_share = [1.0]


def use_backend_share(backend: str) -> None:
    _share[0] = EXAMPLE_SHARE.get(backend, 1.0)


def form_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max(5, round(max_examples * _share[0])),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,  # examples are generated afresh: the run stays the same length every time
    )


def snapshot(engine) -> dict:
    """What a refused input must leave alone: row counts and the point totals."""
    existing = set(inspect(engine).get_table_names())
    out: dict = {}
    with read_session(engine) as s:
        for name, table in SQLModel.metadata.tables.items():
            if name in existing and name not in NOISY_TABLES:
                out[name] = s.exec(select(func.count()).select_from(table)).one()
        out["ledger points"] = s.exec(select(func.coalesce(func.sum(LedgerEntry.points), 0))).one()
        out["available"] = s.exec(select(func.coalesce(func.sum(MemberBalance.available), 0))).one()
    return out


def call(handler_result) -> None:
    asyncio.run(run(handler_result))


def refused_cleanly(message: str) -> bool:
    return bool(message.strip()) and message != GENERIC_ERROR


# ------------------------------------------------------------------ strategies

HOSTILE_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "\u202eevil\u202c",
            "שלום",
            "مرحبا",
            "🙂" * 40,
            "\r\n\t",
            "x" * 5000,
            "<script>alert(1)</script>",
            "'; DROP TABLE account; --",
            "%s%n",
            "{0}{points}",
            "\ufeff",
            "\u200b",
            "Ω" * 300,
            "𝟘𝟙𝟚",
            "null",
            "None",
            "../../etc/passwd",
        ]
    ),
)
HOSTILE_AMOUNT = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "-0",
            "-5",
            "0.001",
            "0,5",
            "1,000",
            "1.000,50",
            "12.50",
            " 7 ",
            "NaN",
            "nan",
            "inf",
            "-inf",
            "Infinity",
            "1e309",
            "1e3",
            "1E2",
            "9" * 30,
            "99999999999999999999",
            "9223372036854775808",
            "0x10",
            "١٢",
            "٣.٥",
            "१०",
            "１２",
            "12abc",
            "+3",
            "--3",
            "3-",
            "½",
            "\x00",
            "1\x00",
            "1_000",
            "٫5",
            " ",
        ]
    ),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.text(alphabet="0123456789.,-+eE ", max_size=14),
    HOSTILE_TEXT,
)
HOSTILE_DATE = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "",
            "2023-02-29",
            "2024-02-29",
            "2024-02-30",
            "0000-01-01",
            "0001-01-01",
            "9999-12-31",
            "10000-01-01",
            "1900-01-01",
            "1899-12-31",
            "2024-13-01",
            "2024-00-10",
            "2024-1-5",
            "05/04/1990",
            "1990-05-04T00:00:00",
            "1990-05-04Z",
            "-1990-05-04",
            "tomorrow",
            "1990-05-04\x00",
            "１９９０-０５-０４",
            "1e9",
        ]
    ),
    HOSTILE_TEXT,
)
HOSTILE_TZ = st.one_of(
    st.sampled_from(
        [
            "UTC",
            "Europe/Madrid",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+14",
            "Etc/GMT-14",
            "",
            "utc",
            "Mars/Olympus",
            "../../../etc/passwd",
            "/etc/localtime",
            "Europe/Madrid\x00",
            "EST5EDT",
            "localtime",
            "+02:00",
            "Z",
            "Europe/" + "x" * 300,
        ]
    ),
    HOSTILE_TEXT,
)


def forged_codes(real: str) -> st.SearchStrategy[str]:
    """Codes near a real one: truncated, one character changed, padded, other case, other digits."""
    return st.one_of(
        st.integers(min_value=0, max_value=max(len(real) - 1, 0)).map(lambda n: real[:n]),
        st.tuples(st.integers(min_value=0, max_value=len(real) - 1), st.characters(codec="utf-8")).map(
            lambda p: real[: p[0]] + p[1] + real[p[0] + 1 :]
        ),
        st.sampled_from(
            [
                real + "0",
                " " + real + " ",
                real.lower(),
                real.upper(),
                real + "\x00",
                real * 2,
                real.replace("0", "O"),
                "V-" + real,
                "LQ1." + real,
                real + "\n" + real,
            ]
        ),
        st.text(max_size=40),
        HOSTILE_TEXT,
    )


@dataclass
class FakeUpload:
    """What Reflex hands an upload handler: a name and a file object."""

    name: str
    file: io.BytesIO


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims huge dimensions (a decompression bomb's first bytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    header = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))
    idat = zlib.compress(b"\x00" * 1024)
    return header + struct.pack(">I", len(idat)) + b"IDAT" + idat + struct.pack(">I", zlib.crc32(b"IDAT" + idat))


VALID_PNG = _png(64, 48)
HOSTILE_FILES = st.one_of(
    st.binary(max_size=2048),
    st.integers(min_value=0, max_value=len(VALID_PNG) - 1).map(lambda n: VALID_PNG[:n]),  # truncated
    st.sampled_from(
        [
            _png_claiming(100_000, 100_000),
            _png_claiming(0, 0),
            _png_claiming(2**31 - 1, 1),
            b"GIF89a" + b"\x00" * 40,
            b"<svg xmlns='http://www.w3.org/2000/svg'/>",
            b"%PDF-1.4",
            VALID_PNG,
            VALID_PNG + b"\x00" * 100,
            b"\xff\xd8\xff" + b"\x00" * 64,
        ]
    ),
    st.binary(min_size=8, max_size=200).map(lambda tail: VALID_PNG[:33] + tail),
)


# ------------------------------------------------------------------ added for the console forms

HOSTILE_ID_TEXT = st.sampled_from(
    [
        "",
        "0",
        "-1",
        "-0",
        "²",
        "١٢",
        "１２",
        "1.0",
        "1e3",
        " 1",
        "1 ",
        "0x1",
        "9" * 12,
        "9" * 30,
        "99999999999999999999",
        "9223372036854775808",
        "NaN",
        "\x00",
        "1\x00",
        "None",
        "null",
        "[1]",
        "'1'",
        "1;DROP TABLE account",
    ]
)


def hostile_ids(*real: int) -> st.SearchStrategy[str]:
    """Ids as the browser could send them: the real ones (own or another merchant's), and junk."""
    return st.one_of(
        st.sampled_from([str(r) for r in real] or ["1"]),
        HOSTILE_ID_TEXT,
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
        HOSTILE_TEXT,
    )


HOSTILE_COLOUR = st.one_of(
    st.sampled_from(
        [
            "#GGG",
            "red",
            "#fff",
            "#FFF",
            "fff",
            "#abcd",
            "#1f5f46",
            "#1F5F46 ",
            "url(javascript:alert(1))",
            "</style><script>alert(1)</script>",
            "#fff;background:url(x)",
            "rgb(0,0,0)",
            "#",
            "",
            "\x00#fff",
            "#ｆｆｆ",
            "#٠٠٠",
            "var(--x)",
            "#" + "f" * 64,
            "#1f5f46\n",
        ]
    ),
    st.from_regex(r"#?[0-9a-fA-F]{3}|#?[0-9a-fA-F]{6}", fullmatch=True),
    HOSTILE_TEXT,
)
HOSTILE_DATETIME = st.one_of(
    st.datetimes(min_value=datetime(1999, 6, 1), max_value=datetime(2101, 6, 1)).map(lambda d: d.strftime("%Y-%m-%dT%H:%M")),
    st.sampled_from(
        [
            "",
            "2024-02-29T10:00",
            "2023-02-29T10:00",
            "2024-02-30T10:00",
            "0000-01-01T00:00",
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "10000-01-01T00:00",
            "2024-13-01T00:00",
            "2024-03-31T02:30",
            "2024-10-27T02:30",
            "2024-03-10T02:30",
            "2024-06-01T24:00",
            "2024-06-01T23:60",
            "2024-06-01",
            "2024-06-01 10:00",
            "2024-06-01T10:00:59",
            "2024-06-01T10:00Z",
            "2024-06-01T10:00+02:00",
            "２０２４-０６-０１T10:00",
            "tomorrow",
            "2024-06-01T10:00\x00",
            "1e9",
        ]
    ),
    HOSTILE_DATE,
)
