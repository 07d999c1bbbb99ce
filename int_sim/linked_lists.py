"""Lists linked through arrays, as the compiled care steps keep their queues.

A list's items are row or column numbers of a table. ``following[item]`` is the item after
``item`` (NONE after the last); a list that items may leave from the middle also keeps
``previous[item]``. The list's first and last items are ``ends[head]`` and ``ends[tail]`` (NONE
when it is empty), where ``ends`` is its owner's row or column: a pool's (free places, waiting
requests), a person's (places withheld while absent), a day's (the day book's entries). Each
function is inlined where it is called.
"""

from __future__ import annotations

from .care_state import NONE, inlined


@inlined
def append(following, ends, head, tail, item):
    """Put ``item`` at the end of the list."""
    last = ends[tail]
    following[item] = NONE
    if last == NONE:
        ends[head] = item
    else:
        following[last] = item
    ends[tail] = item


@inlined
def append_linked_both_ways(previous, following, ends, head, tail, item):
    """Put ``item`` at the end of a list that also keeps each item's previous one."""
    previous[item] = ends[tail]
    append(following, ends, head, tail, item)


@inlined
def unlink(previous, following, ends, head, tail, item):
    """Take ``item`` out of a list that keeps each item's previous one, wherever it is."""
    before, after = previous[item], following[item]
    if before == NONE:
        ends[head] = after
    else:
        following[before] = after
    if after == NONE:
        ends[tail] = before
    else:
        previous[after] = before
