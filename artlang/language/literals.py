"""How the literals of the language read: hex colours (`#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`).

The parser turns a colour literal into its channels here, with no arrays; the colour kernels and
`--param` read colours through the same function.
"""
from __future__ import annotations

import re

_HEX_COLOUR = re.compile(r"#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


def parse_hex(text: str) -> tuple[float, float, float, float]:
    """Parse "#rgb", "#rgba", "#rrggbb" or "#rrggbbaa" into an (r, g, b, a) tuple of floats in 0..1.

    Alpha defaults to 1. Letters may be upper or lower case; nothing else (no spaces, no missing #).

    >>> parse_hex("#ff8000")
    (1.0, 0.5019607843137255, 0.0, 1.0)
    >>> parse_hex("#0f08")
    (0.0, 1.0, 0.0, 0.5333333333333333)
    """
    match = _HEX_COLOUR.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(
            f"{text!r} is not a hex colour; write #rgb, #rgba, #rrggbb or #rrggbbaa "
            f"with hex digits 0-9 and a-f, for example #ff8000")
    digits = match.group(1)
    if len(digits) <= 4:
        channels = [int(digit, 16) / 15 for digit in digits]
    else:
        channels = [int(digits[i:i + 2], 16) / 255 for i in range(0, len(digits), 2)]
    if len(channels) == 3:
        channels.append(1.0)
    return tuple(channels)
