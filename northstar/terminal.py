"""The consoles northstar prints with: rich with markup off, so text is printed as it is.

Campaign names, file paths, settings and error messages all reach the terminal. With markup on, rich reads a
campaign named `Q1 [/campaign] sale` as a closing tag and dies with a MarkupError. Our own styling uses `style=`
and `Text`, never markup in strings.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console


def make_console(*, stderr: bool = False, **kwargs: Any) -> Console:
    """A rich Console that prints every string literally (keyword arguments go to Console)."""
    return Console(stderr=stderr, markup=False, **kwargs)
