"""The ``int-sim`` command's entry point.

Loading the libraries (numpy, pandas, mesa, simpy, typer...) takes a second or two before the
command's own Ctrl-C handling exists; a Ctrl-C in that window ends here, quietly, with exit code
130 and nothing written, instead of a traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Load the command, then run it (see :mod:`int_sim.cli`)."""
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: stopped while starting; nothing was written\n")
        raise SystemExit(130) from None
    run()
