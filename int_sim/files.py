"""Writing output files so that a crash or Ctrl-C never leaves half of one."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable

from matplotlib.figure import Figure


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file beside ``path``, then rename it into place.

    The rename is atomic on one file system, so readers see the old file or the whole new one.
    The temporary name is fresh and created by the writer itself, so the file gets the usual
    permissions (not mkstemp's owner-only ones).
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_figure(fig: Figure, folder: Path, stem: str) -> list[Path]:
    """Save a figure as PNG and SVG in ``folder``; the SVG carries no date, so the same data give
    the same files."""
    paths = []
    for ext in ("png", "svg"):
        path = Path(folder) / f"{stem}.{ext}"
        metadata = {"Date": None} if ext == "svg" else None
        write_atomically(path, lambda tmp, ext=ext, metadata=metadata: fig.savefig(
            tmp, format=ext, dpi=150 if ext == "png" else None, metadata=metadata))
        paths.append(path)
    return paths
