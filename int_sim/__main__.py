"""``python -m int_sim``: the same command as ``int-sim`` (see :mod:`int_sim.cli`)."""

from .launch import main

main()
