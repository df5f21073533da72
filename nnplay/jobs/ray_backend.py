"""The Ray backend: runs train in warm Ray actors on a cluster; events come back to this process.

Used when ``NNPLAY_RAY_ADDRESS`` is set (``auto``, ``ray://host:10001``, or a head's ``host:port``); how the
app joins the cluster is ``ray_connect``. The app's backend (``background=True``) joins in a thread and keeps
trying every ``RETRY_SECONDS``: no page waits for it, ``describe()`` says within ``SILENT_SECONDS`` that the
cluster cannot be reached and why, and runs started meanwhile wait in the queue and train once it answers.
Once joined, a watching thread reads the cluster's nodes and resources every ``WATCH_SECONDS`` (pages read
that, never Ray itself); a cluster that stops answering (``ray stop``, its head lost) for ``LOST_SECONDS`` is
let go: runs that were training end "error" saying so, runs that had not begun wait again, and the backend
goes back to trying to join, so a restarted cluster takes the queue up again.

Actors are warm workers (``ray_actor.RayRunner``), kept as the local pool keeps its worker processes: once
connected, the backend starts as many as the cluster's CPUs hold (``NNPLAY_RAY_CPUS_PER_RUN`` each, default
1; Ray spreads them over the nodes); each imports torch and decodes the data once, then trains one run
after another. A run that wants CUDA on a cluster with GPUs gets an actor that also asks for
``NNPLAY_RAY_GPUS_PER_RUN`` of a GPU (default 1; 0.25 lets four share one), made in place of an idle CPU
one. Runs wait in this backend's queue, first come first served, for a free actor. One reader thread per
run long-polls its actor for event batches and hands them to the sink, so the app stays the only writer
of its store; stop, pause, resume (every ``commands`` command) are actor calls. An actor that dies (its
worker process killed, its node lost) makes the poll raise: the run ends "error" (or, if it had not begun,
goes back to the queue once; the message is ``death_sentence``) and the actor is replaced.
Ray is optional: ``pip install -r requirements-ray.txt``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time

from .. import settings
from . import Backend, Job, JobEnd, JobSpec, QueuePosition, Sink, env_float
from .commands import Command, Pause, Resume, Stop
from .ray_connect import Unreachable, cluster_state, connect, disconnect, host_port, import_ray, silent

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
RETRY_SECONDS = 5.0  # between two tries to reach a cluster that did not answer
SILENT_SECONDS = 10.0  # a try still unanswered after this is said to have failed (it goes on in the background)
WATCH_SECONDS = 2.0  # between two reads of a joined cluster's state
LOST_SECONDS = 10.0  # reads failing this long let go of the cluster: Ray rides out a shorter blip, and ends us at 60 s
RUN_END_SECONDS = 120.0  # how long an actor (maybe still warming up) may take to return from an ended run
_keys = itertools.count(1)


class RayJob(Job):
    def __init__(self, spec: JobSpec, sink: Sink, backend: "RayBackend"):
        super().__init__(spec, sink, backend)
        self.key = f"{spec.run_id}#{next(_keys)}"
        self.actor = None   # the Ray actor handle training it, once it has one
        self.worker: _Worker | None = None
        self.started = False
        self.resources: dict = {}
        self.early: list[Command] = []  # commands sent while it waited for an actor
        self.tries = 0


class _Worker:
    """One warm actor as the backend sees it."""

    def __init__(self, handle, gpu: bool):
        self.handle = handle
        self.gpu = gpu
        self.job: RayJob | None = None


class RayBackend(Backend):
    """Runs in warm Ray actors on the cluster at ``address``.

    ``background=False`` (tests, scripts) connects now and raises ``Unreachable`` when it cannot;
    ``background=True`` (the app) connects in a thread and keeps trying. ``preload``: the ``DataConfig``
    every actor decodes as it starts (True: the default one; None: none); ``warm``: how many actors to start
    once connected (default: as many as the cluster's CPUs hold).
    """

    name = "ray"

    def __init__(self, address: str | None = None, gpus_per_run: float | None = None,
                 cpus_per_run: float | None = None, max_run_minutes: float | None = None,
                 background: bool = False, preload=True, warm: int | None = None):
        from ..config import DataConfig

        self.address = address or settings.value("NNPLAY_RAY_ADDRESS") or "auto"
        if self.address != "auto":
            host_port(self.address)  # a malformed address is said at once
        import_ray()  # so is Ray not installed: no retry would help
        self.gpus_per_run = gpus_per_run if gpus_per_run is not None else env_float("NNPLAY_RAY_GPUS_PER_RUN", 1.0)
        self.cpus_per_run = cpus_per_run if cpus_per_run is not None else env_float("NNPLAY_RAY_CPUS_PER_RUN", 1.0)
        self.max_run_minutes = max_run_minutes if max_run_minutes is not None else env_float("NNPLAY_MAX_RUN_MINUTES")
        self.preload = DataConfig() if preload is True else (preload or None)
        self.warm = warm
        self.ray = None
        self.problem = ""  # why the last try to reach the cluster failed
        self.lost = ""  # when and why a joined cluster stopped answering (said until it is joined again)
        self.letting_go = False  # while the connection to a lost cluster is closed, before the tries again begin
        self._connected = threading.Event()
        self._since = time.monotonic()
        self._lock = threading.RLock()
        self._jobs: list[RayJob] = []      # every job not yet ended
        self._waiting: list[RayJob] = []   # those without an actor, in order
        self._workers: list[_Worker] = []
        self._closing = False
        self._state: dict = {"alive": 0, "nodes": [], "resources": {}}  # the cluster as the watching thread last read it
        self._generation = 0  # how many times a joined cluster was lost: a reader of an earlier one lets go
        self._wake = threading.Event()  # set by close: the watching thread ends
        self._threads: list[threading.Thread] = []  # the connecting one and the readers, joined by close
        if background:
            self._thread(self._keep_trying, name="nnplay-ray-connect")
        else:
            self._connect()

    def _thread(self, target, *args, name: str) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=name)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    # -- reaching the cluster -------------------------------------------------------------------

    def _connect(self) -> None:
        ray = connect(self.address)
        from .ray_actor import RayRunner

        state = cluster_state(ray)
        with self._lock:
            self.ray = ray
            self._actor_class = ray.remote(RayRunner)
            self._state = state
            self.problem = self.lost = ""
            self._connected.set()
            if not self._closing:
                self._start_warm_workers()
            self._thread(self._watch, self._generation, name="nnplay-ray-watch")
        self._dispatch()

    def _watch(self, generation: int) -> None:
        """Read the joined cluster's state every ``WATCH_SECONDS``; let go of it (``_lose``) once it has not answered
        for ``LOST_SECONDS``."""
        failing = None  # since when the reads fail
        while not self._wake.wait(WATCH_SECONDS) and generation == self._generation:
            try:
                self._state = cluster_state(self.ray)
                failing = None
            except Exception as err:  # noqa: BLE001 - ConnectionError with the reason, or Ray Client failing
                failing = failing or time.monotonic()
                if time.monotonic() - failing >= LOST_SECONDS:
                    self._lose(str(err) or type(err).__name__)
                    return

    def _lose(self, why: str) -> None:
        """The joined cluster stopped answering: end the runs that trained on it, put back those that had not begun,
        let go of Ray before it ends this process, and go back to trying to join."""
        sentence = self._lost_sentence(why)
        with self._lock:
            if self._closing:
                return
            self._generation += 1
            self._connected.clear()
            self._since = time.monotonic()
            self.problem = str(Unreachable(self.address, f"it stopped answering: {why}"))
            self._workers = []
            readers = [t for t in self._threads if t.name.startswith("nnplay-ray-") and t.name != "nnplay-ray-watch"]
            self.lost = (f"It stopped answering at {time.strftime('%H:%M:%S')}: the runs that were training on it "
                         f"ended (their curves are kept).")
            self.letting_go = True
            for job in [j for j in self._jobs if j.worker is not None]:
                job.worker = job.actor = None
                if job.started:
                    self._jobs.remove(job)
                    job._deliver([JobEnd("error", sentence)])
                else:
                    self._waiting.insert(0, job)
        log.warning("%s", self.problem)
        deadline = time.monotonic() + 2 * POLL_SECONDS + 5  # well inside Ray's 60 s, however many runs there were
        for thread in readers:  # each leaves Ray within a poll (their jobs ended, or the generation moved on)
            thread.join(max(0.0, deadline - time.monotonic()))
        disconnect(self.ray)
        self.letting_go = False
        self._thread(self._keep_trying, name="nnplay-ray-connect")

    def _keep_trying(self) -> None:
        while not self._closing:
            try:
                self._connect()
                return
            except Exception as err:  # noqa: BLE001 - Unreachable, or Ray itself failing: say it, try again
                problem = str(err) if isinstance(err, RuntimeError) else str(Unreachable(
                    self.address, f"{type(err).__name__}: {str(err).strip()[:200]}"))
                if problem != self.problem:  # the server's log says it once, not every few seconds
                    log.warning("%s", problem)
                self.problem = problem
            time.sleep(RETRY_SECONDS)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def unreachable(self) -> str | None:
        """Why the cluster cannot be reached yet (a sentence), None once connected or while a first try is young."""
        if self.connected:
            return None
        if self.problem:
            lost = f" {self.lost}" if self.lost else ""
            then = "Closing the lost connection first, then trying again" if self.letting_go else "Trying again"
            return f"{self.problem}{lost} {then} every {RETRY_SECONDS:g} s; runs started meanwhile wait for it."
        waited = time.monotonic() - self._since
        if waited >= SILENT_SECONDS:
            return str(Unreachable(self.address, f"it has not answered for {waited:.0f} s")) + \
                " Still trying; runs started meanwhile wait for it."
        return None

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    # -- warm actors ----------------------------------------------------------------------------

    def _lost_sentence(self, why: str) -> str:
        return (f"the Ray cluster at {self.address} stopped answering while this run trained ({why}). "
                f"Its curves up to then are kept.")

    def _resources(self) -> dict:
        return self._state["resources"]

    def _capacity(self, resources: dict, gpu: bool) -> int:
        """How many actors the cluster holds: its CPUs by the CPUs a run asks (and GPUs, for a GPU actor)."""
        n = int(resources.get("CPU", 0) // self.cpus_per_run)
        if gpu:
            n = min(n, int(resources.get("GPU", 0) // self.gpus_per_run))
        return max(1, n)

    def _wants_gpu(self, spec: JobSpec, resources: dict | None = None) -> bool:
        if spec.train.device not in ("auto", "cuda"):
            return False
        return (resources if resources is not None else self._resources()).get("GPU", 0) > 0

    def _new_worker(self, gpu: bool) -> _Worker:
        threads = max(1, int(self.cpus_per_run))
        handle = self._actor_class.options(
            num_cpus=self.cpus_per_run, num_gpus=self.gpus_per_run if gpu else 0, max_concurrency=8,
            max_restarts=0).remote(threads, self.preload)
        worker = _Worker(handle, gpu)
        self._workers.append(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        if worker not in self._workers:
            return  # close or _lose let it go already
        self._workers.remove(worker)
        try:
            self.ray.kill(worker.handle)
        except Exception:  # noqa: BLE001 - already gone
            pass

    def _start_warm_workers(self) -> None:
        from ..config import TrainConfig

        resources = self._resources()
        gpu = self._wants_gpu(JobSpec("warm", "warm", train=TrainConfig()), resources)
        n = self.warm if self.warm is not None else self._capacity(resources, gpu)
        for _ in range(max(0, n - len(self._workers))):
            self._new_worker(gpu)

    def worker_count(self) -> int:
        with self._lock:
            return len(self._workers)

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until connected and every actor has imported torch and decoded the data; True if they have."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._connected.wait(timeout):
            return False
        with self._lock:
            handles = [w.handle for w in self._workers]
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _ = self.ray.wait([h.pid.remote() for h in handles], num_returns=len(handles), timeout=left)
        return len(ready) == len(handles)

    # -- the queue ------------------------------------------------------------------------------

    def submit(self, spec: JobSpec, sink: Sink, data=None, commands: tuple[Command, ...] = ()) -> RayJob:
        if self._closing:
            raise RuntimeError("the Ray backend is closed; start a new one.")
        problem = None if self.connected else self.unreachable()
        if spec.call is not None and problem:
            raise RuntimeError(problem)  # its caller waits for the answer: a run may wait for the cluster, a call not
        job = RayJob(spec, sink, self)
        with self._lock:
            self._jobs.append(job)
            self._waiting.append(job)
            job.early.extend(commands)  # sent before its run begins (start paused, step mode, a rate)
        self._dispatch()
        return job

    def _dispatch(self) -> None:
        """Give each waiting job, in order, an idle actor of its kind, a new one while the cluster has room,
        or an idle actor of the other kind's place."""
        with self._lock:
            if self._closing or not self.connected or not self._waiting:
                return
            resources = self._resources()
            for job in list(self._waiting):
                gpu = self._wants_gpu(job.spec, resources)
                worker = next((w for w in self._workers if w.job is None and w.gpu == gpu), None)
                if worker is None:
                    same = sum(w.gpu == gpu for w in self._workers)
                    room = not gpu or same < self._capacity(resources, True)
                    idle = next((w for w in self._workers if w.job is None), None)
                    if room and len(self._workers) < self._capacity(resources, False):
                        worker = self._new_worker(gpu)
                    elif room and idle is not None:
                        self._retire(idle)
                        worker = self._new_worker(gpu)
                    else:
                        continue
                self._waiting.remove(job)
                worker.job, job.worker, job.actor = job, worker, worker.handle
                job.resources = {"num_cpus": self.cpus_per_run, "num_gpus": self.gpus_per_run if gpu else 0}
                job.tries += 1
                self._thread(self._read, job, worker, name=f"nnplay-ray-{job.spec.run_id}")

    def _read(self, job: RayJob, worker: _Worker) -> None:
        """Start the run on its actor and long-poll it for batches until its JobEnd arrives or it dies."""
        ray = self.ray
        handle = worker.handle
        generation = self._generation
        free = False
        again = False
        try:
            max_seconds = self.max_run_minutes * 60 if self.max_run_minutes else None
            for command in job.early:
                handle.command.remote(job.key, command)
            run_ref = handle.run.remote(job.key, job.spec, max_seconds)
            def gone() -> bool:  # its run ended here, or the cluster was let go of (``_lose``: no more Ray calls)
                return job.done or generation != self._generation

            while not gone():
                ref = handle.poll.remote(job.key, POLL_SECONDS)
                ready: list = []
                while not ready and not gone():
                    ready, _ = ray.wait([ref], timeout=POLL_SECONDS + 1)  # an actor warming up waits here
                if gone():
                    break
                for batch in ray.get(ref):
                    if not job.started:
                        job.started = True
                    job._deliver(batch)
            if generation != self._generation:
                return
            ray.get(run_ref, timeout=RUN_END_SECONDS)  # its run returned: the actor is free for the next
            free = True
        except Exception as err:  # noqa: BLE001 - RayActorError and friends: the actor is gone
            if generation != self._generation:
                return
            if not job.started and not job.done and job.tries < 2 and not self._closing:
                again = True  # an actor that died before this run began (a lost node): give it another
            elif not job.done:
                silence = silent(1.0)  # a whole cluster gone is said as such, not as one lost actor
                job._deliver([JobEnd("error", self._lost_sentence(silence) if silence else death_sentence(err))])
        finally:
            self._let_go(job, worker, generation, free, again)

    def _let_go(self, job: RayJob, worker: _Worker, generation: int, free: bool, again: bool) -> None:
        """After a reader: its actor free for the next run (or retired), its job ended or back in the queue; nothing
        when the cluster it read from was let go of (``_lose`` did it all)."""
        with self._lock:
            if generation != self._generation:
                return
            job.worker, job.actor = None, None
            if free and not self._closing:
                worker.job = None
                worker.handle.forget.remote(job.key)
            else:
                self._retire(worker)
            if again:
                self._waiting.insert(0, job)
            elif job in self._jobs:
                self._jobs.remove(job)
        self._dispatch()

    def _command(self, job: Job, command: Command) -> None:
        with self._lock:
            if job in self._waiting:
                if isinstance(command, Stop):
                    self._waiting.remove(job)
                    self._jobs.remove(job)
                    job._deliver([JobEnd("stopped", "stopped before it started")])
                else:
                    job.early.append(command)
                return
            handle = job.actor
        if handle is None:
            return
        handle.command.remote(job.key, command)
        if job.status == "queued" and isinstance(command, Stop):
            # its actor has not begun it: end it here; the run ends at once there, and the actor is kept
            job._deliver([JobEnd("stopped", "stopped before it started")])
        elif isinstance(command, Pause) and job.status == "running":
            job.status = "paused"
        elif isinstance(command, Resume) and job.status == "paused":
            job.status = "running"

    def _position(self, job: Job) -> QueuePosition | None:
        with self._lock:
            waiting = [j for j in self._jobs if not j.started and not j.done]
        if job not in waiting:
            return None
        if not self.connected:
            why = self.unreachable() or f"connecting to the Ray cluster at {self.address}"
            return QueuePosition(waiting.index(job) + 1, len(waiting), f"waiting for the Ray cluster: {why}")
        gpu = job.resources.get("num_gpus") or 0
        ask = f"{job.resources.get('num_cpus', self.cpus_per_run):g} CPU" + (f" and {gpu:g} GPU" if gpu else "")
        return QueuePosition(waiting.index(job) + 1, len(waiting),
                             f"waiting for room on the Ray cluster (each run asks for {ask})")

    def actor_pid(self, job: RayJob, timeout: float = 60) -> int:
        """The process id of the Ray worker that trains ``job`` (for tests and operators)."""
        return self.ray.get(job.actor.pid.remote(), timeout=timeout)

    def describe(self) -> str:
        if not self.connected:
            problem = self.unreachable()
            where = "nowhere now" if self.lost else "nowhere yet"
            return f"{where}: {problem}" if problem else f"the Ray cluster at {self.address} (connecting…)"
        n, ips, res = self._state["alive"], self._state["nodes"], self._state["resources"]
        host = self.address.split("://")[-1].rsplit(":", 1)[0]
        under = f" (its nodes registered as {', '.join(ips)})" if ips and host not in ips else ""
        return (f"Ray cluster at {self.address}{under}: {n} node{'s' if n != 1 else ''}, "
                f"{res.get('CPU', 0):g} CPUs, {res.get('GPU', 0):g} GPUs")

    def close(self, timeout: float = 10.0) -> None:
        """Stop every run and wait for their ends, then let the actors go and wait for this backend's threads
        (so a ``ray.shutdown`` after it finds none inside Ray: ray-project/ray#31145); the connection stays."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closing = True  # no new run, and no waiting one starts
            jobs = list(self._jobs)
        self._wake.set()
        for job in jobs:
            job.stop()
        for job in jobs:
            if not job.wait(timeout):
                job._deliver([JobEnd("stopped", "the Ray backend shut down")])
        with self._lock:
            workers, self._workers = list(self._workers), []
        for worker in workers:
            try:
                self.ray.kill(worker.handle)
            except Exception:  # noqa: BLE001 - already gone
                pass
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))


def death_sentence(err: BaseException) -> str:
    """Why a run's Ray actor is gone, as a sentence for the run (``err``: what the poll raised). It claims only the
    curves: what model is left the run says itself (``Run``), from what is on disk."""
    cause = str(err).strip().splitlines()
    return (f"the Ray worker training this run died ({type(err).__name__}: "
            f"{cause[0][:200] if cause else 'no details'}). Its curves up to then are kept.")
