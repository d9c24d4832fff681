"""Memory habits of the server process: fewer malloc arenas, and a garbage collector that skips start-up objects.

Arenas: glibc gives each thread that contends for the allocator an arena of its own, up to eight per core; freed
memory stays in the arena it came from, so with the thread pool's 40 threads the resident memory of a worker creeps up
under mixed load although the Python heap does not (bench/LOAD.md). ``M_ARENA_MAX`` bounds the number of arenas
(the usual advice for threaded Python servers, and the effect of ``MALLOC_ARENA_MAX``, settable at run time).

Start-up objects: the layers, their GeoJSON features and the place names are some 360,000 Python objects made once
and kept for the life of the process. Every full collection of the cyclic garbage collector walked all of them:
~95 ms with every thread stopped, several times a minute under load, in the tail of every request it fell on
(bench/LOAD.md). :func:`startup_objects_frozen` moves them to the permanent generation (``gc.freeze``, the advice
of CPython's documentation for pre-fork servers), so a collection walks only what requests allocate.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

#: mallopt parameter number of M_ARENA_MAX in glibc's malloc.h.
M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int) -> bool:
    """Bound glibc's malloc arenas to ``arenas`` (0: leave them); False where the C library is not glibc."""
    if arenas <= 0:
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        logger.info("malloc arenas left as they are: no glibc mallopt here")
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))


@contextmanager
def startup_objects_frozen() -> Iterator[int]:
    """Collect once, then exempt every object alive now from collections until the block ends; yields how many.

    Enter it when start-up is done (the lifespan, after the layers and collections are open). Frozen objects are
    still freed by reference counting when released; only cycles among them wait for the end of the block, where
    they go back to the oldest generation (so an app stopped in a process that goes on, as in the tests, leaves
    nothing behind).
    """
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    elapsed = (time.perf_counter() - started) * 1000
    logger.info("%d start-up objects exempted from garbage collection (%.0f ms)", frozen, elapsed)
    try:
        yield frozen
    finally:
        gc.unfreeze()
