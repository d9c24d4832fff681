"""Fewer malloc arenas for the server process, so its resident memory stops growing with its threads.

glibc gives each thread that contends for the allocator an arena of its own, up to eight per core; freed memory
stays in the arena it came from, so with the thread pool's 40 threads the resident memory of a worker creeps up
under mixed load although the Python heap does not (bench/LOAD.md). ``M_ARENA_MAX`` bounds the number of arenas
(the usual advice for threaded Python servers, and the effect of ``MALLOC_ARENA_MAX``, settable at run time).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

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
