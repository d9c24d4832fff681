"""Static map rendering and point classification in worker processes, so they never hold the server's GIL.

matplotlib's drawing and the classification hold the GIL for seconds: in the server's threads they stall every
other request (read p99 of 6.8 s at 64 connections, bench/LOAD.md). :class:`WorkerPool` runs them in
``service.worker_processes`` processes (spawned, never forked from a threaded server), each of which opens the
layer store and the event store itself once, in :func:`_start`, at a lower CPU priority (``service.worker_nice``):
on a machine whose cores are busy, the server's reads get them first (bench/LOAD.md). A worker is replaced after
``service.worker_tasks`` tasks, which bounds what matplotlib and GEOS keep between tasks. With 0 processes the
work runs in the calling thread, as before (tests, and machines where a process per worker is too much).

The pool is created in the app's lifespan and shut down with it; its processes start on the first task, or at
once when the app is created with ``prestart_workers`` (``czmap serve`` does: a worker takes seconds to open the
stores, which the first image would otherwise wait for; test apps do not, most never draw an image). Prestarting
also builds the zone index's grids once in the server and hands them to every worker process, replacements
included (:class:`~app.layerstore.zones.WarmGrids`): a worker that built its own held every classification up
for ~8 s, every ``worker_tasks`` tasks.
Errors raised in a worker come back as the same class with the same message and attributes; a worker that died
(killed, out of memory) is answered 503 (:class:`~app.errors.Busy`) and the pool is started afresh. So is a task
that made no progress for ``service.worker_deadline`` seconds: its processes are killed (a stuck GEOS or matplotlib
call cannot be interrupted any other way) and the pool started afresh; with several worker processes, the other
tasks under way in that pool are answered 503 too, as if their worker had died. A worker that is slow but working
(it used CPU in the meantime) is given more time, up to ten deadlines or ten minutes (:class:`_Progress`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import pickle
import shutil
import tempfile
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import Busy

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from app.analysis.dated import Period
    from app.analysis.inputs import Points
    from app.analysis.output import OutputFormat
    from app.layerstore import LayerStore
    from app.layerstore.zones import WarmGrids
    from app.settings import Settings
    from app.webmap.render import ImageFormat, StaticMap
    from app.webmap.sources import MapData
    from app.webmap.view import MapView


@dataclass
class _Worker:
    """What a worker process opened once: the layer store and the map's data sources."""

    layers: LayerStore
    map_data: MapData


_WORKER: _Worker | None = None


@dataclass(frozen=True)
class _Failure:
    """An exception raised in a worker, carried back by class, message and attributes (any class pickles so)."""

    cls: type[BaseException]
    message: str
    state: dict[str, Any]

    def exception(self) -> BaseException:
        exc = self.cls.__new__(self.cls)
        BaseException.__init__(exc, self.message)
        exc.__dict__.update(self.state)
        return exc


class WorkerPool:
    """Worker processes for renders and classifications, as many as ``service.worker_processes`` (0: none).

    ``layers`` and ``map_data`` are the app's own, used when there are no worker processes; ``with_events`` says
    whether the map's events come from the event store (a worker opens it too) or there are none.
    """

    def __init__(self, settings: Settings, layers: LayerStore, map_data: MapData, with_events: bool) -> None:
        self._here = _Worker(layers, map_data)
        self._settings, self._with_events = settings, with_events
        self._processes = settings.service.worker_processes
        self._lock = threading.Lock()
        self._grids: Path | None = None  # the zone grids the server built, pickled for the workers (prestart)
        self._executor = self._new_executor() if self._processes else None

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start,
            initargs=(self._settings, self._with_events, self._grids, os.getpid()),
            max_tasks_per_child=self._settings.service.worker_tasks,
        )

    def render(self, view: MapView, width: int, height: int, fmt: ImageFormat) -> StaticMap:
        """:func:`app.webmap.render.render_png` of the view (blocks the calling thread, not the GIL)."""
        if self._executor is None:
            return _render(self._here, view, width, height, fmt)
        executor, future = self._submit(_render, view, width, height, fmt)
        progress = _Progress(executor, self._settings.service.worker_deadline)
        while not concurrent.futures.wait([future], timeout=self._settings.service.worker_deadline).done:
            if not progress.made():
                break
        return self._outcome(executor, future, "drawing an image")

    async def classify(
        self, points: Points, fmt: OutputFormat, layers: list[str] | None, period: Period
    ) -> dict[str, Any] | str | bytes:
        """:func:`app.analysis.service.run_classify` of the points, awaited off the event loop."""
        if self._executor is None:
            return await asyncio.to_thread(_classify, self._here, points, fmt, layers, period)
        # submitting may wait for the executor's lock while it starts a replacement worker: not on the event loop
        executor, future = await asyncio.to_thread(self._submit, _classify, points, fmt, layers, period)
        waiting = asyncio.wrap_future(future)
        progress = _Progress(executor, self._settings.service.worker_deadline)
        while not (await asyncio.wait([waiting], timeout=self._settings.service.worker_deadline))[0]:
            if not progress.made():
                break
        waiting.cancel()  # stuck: nobody waits for it any more (a no-op when it is done)
        return self._outcome(executor, future, "classifying points")

    def _submit(self, task: Any, *args: Any) -> tuple[ProcessPoolExecutor, Future[Any]]:
        executor = self._executor
        assert executor is not None
        try:
            return executor, executor.submit(_call, task, *args)
        except BrokenProcessPool:  # a worker died (killed, out of memory) while idle: start afresh
            executor = self._restart(executor)
            return executor, executor.submit(_call, task, *args)

    def _outcome(self, executor: ProcessPoolExecutor, future: Future[Any], work: str) -> Any:
        """The task's result, its exception raised here; :class:`~app.errors.Busy` (503) if it cannot be had.

        That is when its worker died, or when the task is still running: past the deadline, the pool's processes
        are then killed and the pool replaced.
        """
        if not future.done():
            self._stop_stuck(executor, work)
            deadline = self._settings.service.worker_deadline
            raise Busy(f"{work} made no progress for {deadline:g} s (service.worker_deadline); its process was stopped")
        if isinstance(future.exception(), BrokenProcessPool):
            self._restart(executor)
            raise Busy("the process drawing images and classifying points stopped; it is restarted, try again")
        value = future.result()
        if isinstance(value, _Failure):
            raise value.exception()
        return value

    def _restart(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A new pool in place of ``broken`` (once, however many requests found it broken)."""
        with self._lock:
            if self._executor is broken:
                broken.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
            assert self._executor is not None
            return self._executor

    def _stop_stuck(self, executor: ProcessPoolExecutor, work: str) -> None:
        """Kill the processes of ``executor``, one of whose tasks ran past the deadline, and start a new pool."""
        with self._lock:
            if self._executor is not executor:
                return  # another request found it stuck first
            stuck = list(_processes_of(executor).values())
            logger.warning(
                "%s made no progress for service.worker_deadline (%g s): stopping worker processes %s and starting "
                "new ones",
                work,
                self._settings.service.worker_deadline,
                [process.pid for process in stuck],
            )
            for process in stuck:
                process.kill()
            executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_executor()

    def prestart(self) -> None:
        """Start every worker process now (each opens the stores), not on the first image or classification.

        The zone index's grids are built first, here (~8 s), and handed to every worker process this pool starts,
        replacements included: without them each new worker spent its first classification building its own.
        """
        if self._executor is None:
            return
        self._grids = _keep_grids(self._here.layers.zones.warm_grids())
        unused, self._executor = self._executor, self._new_executor()  # the first pool started no process yet
        unused.shutdown(wait=False)
        for _ in range(self._processes):
            self._executor.submit(_call, _ready)

    def processes(self) -> list[int]:
        """Process ids of the worker processes running now."""
        return sorted(int(pid) for pid in _processes_of(self._executor))

    def close(self) -> None:
        """Stop the worker processes now.

        The server closes the pool once its requests are answered, so no result is awaited any more: waiting for
        the workers (one still starting, or drawing for a client that left) kept ``czmap serve`` from stopping
        within 10 s of SIGTERM on a busy machine.
        """
        if self._executor is not None:
            processes = list(_processes_of(self._executor).values())
            self._executor.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()
        if self._grids is not None:
            shutil.rmtree(self._grids.parent, ignore_errors=True)


class _Progress:
    """Whether the processes of a pool used any CPU since the last look: a stuck worker uses none.

    A worker that is slow is not stuck: one building the zone grids on a machine whose cores are taken (and at a
    lower priority) took more than a minute for its first classification in CI. So the deadline stops a task only
    when its pool used no CPU for the whole of it, or when it has run for ten deadlines (ten minutes at least).
    Without ``/proc`` (not Linux), only that limit applies.
    """

    def __init__(self, executor: ProcessPoolExecutor, deadline: float) -> None:
        self.executor = executor
        self.give_up_at = time.monotonic() + max(10 * deadline, 600.0)
        self.cpu = self._cpu_seconds()

    def made(self) -> bool:
        """True when the pool used CPU since the last look (and the hard limit is not reached).

        A process that is new since the last look (one replaced after ``worker_tasks``) counts as progress.
        """
        before, self.cpu = self.cpu, self._cpu_seconds()
        if time.monotonic() >= self.give_up_at:
            return False
        if before is None or self.cpu is None:
            return True
        return any(seconds > before.get(pid, -1.0) for pid, seconds in self.cpu.items())

    def _cpu_seconds(self) -> dict[int, float] | None:
        """CPU seconds used by each process of the pool, by pid (None without ``/proc``)."""
        used = {}
        for pid in _processes_of(self.executor):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                return None
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: proc(5)
        return used


def _processes_of(executor: ProcessPoolExecutor | None) -> dict[int, multiprocessing.process.BaseProcess]:
    """The worker processes of ``executor`` by pid (the executor keeps them in a private attribute)."""
    return dict(getattr(executor, "_processes", None) or {})


def _keep_grids(grids: WarmGrids) -> Path | None:
    """The grids pickled into a private temporary folder for the worker processes; None if it cannot be written.

    On a read-only file system each worker then builds its own. Not through the process's start-up arguments:
    spawning writes those into a pipe the new process reads only once its imports are done, and the executor
    holds its lock meanwhile, so with 79 MiB of grids every request that submitted a task waited for a starting
    worker (a 2 s stall of the whole server under load).
    """
    try:
        folder = Path(tempfile.mkdtemp(prefix="czmap-grids-"))  # mode 0700: only this user reads what it unpickles
        path = folder / "zone-grids.pickle"
        with open(path, "wb") as out:
            pickle.dump(grids, out, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        logger.warning("zone grids not shared with the worker processes (each builds its own): %s", exc)
        return None
    return path


def _start(settings: Settings, with_events: bool, grids: Path | None, server: int) -> None:
    """Initializer of a worker process: lower priority, the layer store (with ``grids``) and the event store.

    ``grids`` is the file of the zone index's grids the server built (None when it did not); the event store is
    opened when ``with_events``; ``server`` is the pid of the server process, which this worker ends with.
    """
    global _WORKER
    os.nice(settings.service.worker_nice)  # a busy machine serves the server's reads before these drawings
    threading.Thread(target=_end_with, args=(server,), daemon=True, name="czmap-worker-parent").start()
    from app.events.adapters import StoreEventSource
    from app.events.service import open_service
    from app.layerstore import LayerStore
    from app.webmap.sources import EventSource, GeoJSONEvents, MapData, StoreZones

    layers = LayerStore.open(settings.data_dir)
    if grids is not None:
        with open(grids, "rb") as kept:
            layers.zones.adopt(pickle.load(kept))  # written by this server's own process (_keep_grids)
    events: EventSource = GeoJSONEvents([])
    if with_events:
        events = StoreEventSource(open_service(settings, layers.zones, start_down=True), settings.map.image_markers)
    _WORKER = _Worker(layers, MapData(zones=StoreZones(layers), events=events))


def _end_with(server: int) -> None:
    """End this worker process once its server is gone (killed: ``kill -9``, out of memory), even before it started.

    The pool's queues are pipes whose other end each worker holds too, so a worker never sees its server leave:
    killed servers left their workers idle for good, ~150 MiB each.
    """
    while os.getppid() == server:
        time.sleep(1.0)
    os._exit(0)


def _call(task: Any, *args: Any) -> Any:
    """Run ``task`` in a worker with what :func:`_start` opened; an exception comes back as a :class:`_Failure`."""
    assert _WORKER is not None, "worker process started without _start"
    try:
        return task(_WORKER, *args)
    except Exception as exc:  # noqa: BLE001 - every error goes back to the request that asked
        return _Failure(type(exc), str(exc), dict(vars(exc)))


def _ready(worker: _Worker) -> None:
    """A task that does nothing: submitting it starts a worker process."""


def _render(worker: _Worker, view: MapView, width: int, height: int, fmt: ImageFormat) -> StaticMap:
    from app.webmap.render import render_png

    return render_png(view, worker.layers.manifest, worker.map_data, width=width, height=height, fmt=fmt)


def _classify(
    worker: _Worker, points: Points, fmt: OutputFormat, layers: list[str] | None, period: Period
) -> dict[str, Any] | str | bytes:
    from app.analysis.dated import layer_infos
    from app.analysis.service import run_classify

    return run_classify(worker.layers.zones, points, fmt, layers, None, period, layer_infos(worker.layers))
