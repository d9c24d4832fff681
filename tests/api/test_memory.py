"""The malloc arena bound the lifespan sets (app.memory): applied on glibc, skipped when set to 0."""

from __future__ import annotations

import platform

import pytest

from app.memory import limit_malloc_arenas
from app.settings import ServiceSection


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="M_ARENA_MAX is a glibc setting")
def test_the_arenas_are_bounded_on_glibc() -> None:
    assert limit_malloc_arenas(ServiceSection().malloc_arenas) is True


def test_zero_leaves_the_allocator_alone() -> None:
    assert limit_malloc_arenas(0) is False
