"""Numbers as people read them on the pages (no Streamlit, no plotly)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable


def short(value: float, digits: int = 6) -> str:
    """A number as people write it: up to ``digits`` significant digits, no trailing zeros."""
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{digits}g}"
    return "0" if text == "-0" else text


def fixed(value: float, decimals: int = 7) -> str:
    """A number with fixed decimals (``1.8263000``); e-notation when huge or tiny."""
    if not math.isfinite(value):
        return str(value)
    if value != 0 and (abs(value) >= 1e7 or abs(value) < 10.0 ** -decimals):
        return f"{value:.{decimals}e}"
    return f"{value:.{decimals}f}"


LESSON_DECIMALS = 4  # the lessons write 1.8263 and 2.154: four decimals, no trailing zeros
TINY = 1e-3  # below this (and from HUGE up) a number is written 1.44e-4, three digits
HUGE = 1e7


def approx(value: float, decimals: int = LESSON_DECIMALS) -> str:
    """A number at the lessons' precision: ``decimals`` decimals (at least that many
    significant digits below 1) without trailing zeros, tiny and huge ones in e-notation with
    three significant digits: 2.1539998 -> 2.154, 1.8262999 -> 1.8263, 0.00014393573 ->
    1.44e-4. The pages keep the exact float32 value a toggle or tooltip away."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if abs(value) < TINY or abs(value) >= HUGE:
        mantissa, exponent = f"{value:.2e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    places = max(decimals, decimals - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def tex(value: float, digits: int = 6, *, factor: bool = True,
        fmt: Callable[[float], str] | None = None) -> str:
    """A number for LaTeX (``fmt`` or ``short``), e-notation as ``\\times 10^k``; a negative
    factor in parentheses."""
    text = fmt(value) if fmt else short(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return f"({text})" if factor and value < 0 else text


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: str, limit: int = 60) -> str:
    """Text from a URL or a user, safe inside Streamlit's Markdown: shortened to ``limit``
    characters and every Markdown character escaped, so it shows as typed (no links, no
    images, no formatting)."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return _MARKDOWN.sub(r"\\\1", text)
