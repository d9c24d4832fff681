"""What the lifespan does about memory (app.memory): the malloc arena bound, and start-up objects kept out of the
garbage collector's full collections while the app runs."""

from __future__ import annotations

import gc
import platform

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.memory import limit_malloc_arenas
from app.settings import ServiceSection, Settings


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="M_ARENA_MAX is a glibc setting")
def test_the_arenas_are_bounded_on_glibc() -> None:
    assert limit_malloc_arenas(ServiceSection().malloc_arenas) is True


def test_zero_leaves_the_allocator_alone() -> None:
    assert limit_malloc_arenas(0) is False


def test_a_running_app_keeps_its_layers_out_of_full_collections(built_settings: Settings) -> None:
    with TestClient(create_app(built_settings)) as client:
        assert client.get("/collections/seven-districts/items?limit=1").status_code == 200
        frozen = gc.get_freeze_count()
        # the layers, their features and the place names: far more than a collection walks now
        assert frozen > 100_000
        assert len(gc.get_objects()) < frozen / 5
    assert gc.get_freeze_count() == 0  # stopped: nothing stays exempt in a process that goes on
