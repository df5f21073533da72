"""The Ray backend: each run trains in its own Ray actor on a cluster; events come back to this process.

Used when ``NNPLAY_RAY_ADDRESS`` is set (``auto``, ``ray://host:10001``, or a head's
``host:port``). ``ray.init`` is called once per process (a later backend reuses the
connection). A run becomes a threaded actor (``ray_actor.RayRunner``) asking for
``NNPLAY_RAY_CPUS_PER_RUN`` CPUs (default 1) and, when its config wants CUDA and the cluster has
GPUs, ``NNPLAY_RAY_GPUS_PER_RUN`` of a GPU (default 1; 0.25 lets four runs share one). Ray's
scheduler queues actors until a node has room. Each actor loads the data itself (from the
spec's data dir, else that node's ``NNPLAY_DATA_DIR``, else the built-in sample). One reader
thread per run long-polls the actor for event batches and hands them to the sink, so the app
stays the only writer of its store; stop, pause, resume (every ``commands`` command) are actor calls. An actor that dies
(its worker process killed, its node lost) makes the poll raise, and the run ends "error" with
``death_sentence``.
Ray is optional: ``pip install -r requirements-ray.txt``.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from . import Backend, Job, JobEnd, JobSpec, QueuePosition, Sink, env_float
from .commands import Command, Pause, Resume, Stop

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
_init_lock = threading.Lock()


def import_ray():
    try:
        import ray
    except ImportError:
        raise RuntimeError("NNPLAY_RAY_ADDRESS is set but Ray is not installed: "
                           "`pip install -r requirements-ray.txt`, or unset NNPLAY_RAY_ADDRESS to train "
                           "in the local worker pool.") from None
    return ray


def connect(address: str):
    """``ray.init(address)`` once per process; later calls reuse the connection. Returns the ray module."""
    host = address.split("://")[-1].rsplit(":", 1)[0]
    loopback = host in ("127.0.0.1", "localhost")
    if loopback:
        # Ray rewrites 127.0.0.1 to the machine's network address unless told this is a one-machine
        # cluster (read when ray is first imported); a head started with --node-ip-address=127.0.0.1
        # listens only on the loopback
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = import_ray()
    with _init_lock:
        if not ray.is_initialized():
            package = Path(__file__).resolve().parent.parent
            # ship nnplay itself, so nodes on other machines run this code (they need torch installed)
            # and the app's data folder, so a run reads the dataset the app shows (a node without it at that
            # path loads it as the app would: torchvision's download, else the built-in sample)
            data_dir = {"NNPLAY_DATA_DIR": os.environ["NNPLAY_DATA_DIR"]} if os.environ.get("NNPLAY_DATA_DIR") else {}
            runtime_env = {"py_modules": [str(package)],
                           "env_vars": {"PYTHONUNBUFFERED": "1", **data_dir}}
            options = {} if address.startswith("ray://") else {  # Ray Client takes only the runtime env
                "log_to_driver": False, "configure_logging": False, "include_dashboard": False,
                **({"_node_ip_address": "127.0.0.1"} if loopback else {})}
            try:
                ray.init(address=address, runtime_env=runtime_env, **options)
            except ConnectionError as err:
                raise RuntimeError(f"could not reach the Ray cluster at NNPLAY_RAY_ADDRESS={address!r} ({err}). "
                                   f"Start it with `ray start --head` (and `ray start --address=...` on the "
                                   f"other machines), or unset NNPLAY_RAY_ADDRESS.") from None
    return ray


class RayJob(Job):
    def __init__(self, spec: JobSpec, sink: Sink, backend: "RayBackend"):
        super().__init__(spec, sink, backend)
        self.actor = None
        self.run_ref = None
        self.started = False
        self.resources: dict = {}


class RayBackend(Backend):
    """Runs as Ray actors on the cluster at ``address``."""

    name = "ray"

    def __init__(self, address: str | None = None, gpus_per_run: float | None = None,
                 cpus_per_run: float | None = None, max_run_minutes: float | None = None):
        self.address = address or os.environ.get("NNPLAY_RAY_ADDRESS", "auto")
        self.ray = connect(self.address)
        self.gpus_per_run = gpus_per_run if gpus_per_run is not None else env_float("NNPLAY_RAY_GPUS_PER_RUN", 1.0)
        self.cpus_per_run = cpus_per_run if cpus_per_run is not None else env_float("NNPLAY_RAY_CPUS_PER_RUN", 1.0)
        self.max_run_minutes = max_run_minutes if max_run_minutes is not None else env_float("NNPLAY_MAX_RUN_MINUTES")
        from .ray_actor import RayRunner

        self._actor_class = self.ray.remote(RayRunner)
        self._lock = threading.Lock()
        self._jobs: list[RayJob] = []
        self._closing = False

    def _wants_gpu(self, spec: JobSpec) -> bool:
        if spec.train.device not in ("auto", "cuda"):
            return False
        return self.ray.cluster_resources().get("GPU", 0) > 0

    def submit(self, spec: JobSpec, sink: Sink, data=None, commands: tuple[Command, ...] = ()) -> RayJob:
        if self._closing:
            raise RuntimeError("the Ray backend is closed; start a new one.")
        job = RayJob(spec, sink, self)
        job.resources = {"num_cpus": self.cpus_per_run,
                         "num_gpus": self.gpus_per_run if self._wants_gpu(spec) else 0}
        max_seconds = self.max_run_minutes * 60 if self.max_run_minutes else None
        threads = max(1, int(self.cpus_per_run))
        job.actor = self._actor_class.options(max_concurrency=4, max_restarts=0, **job.resources).remote(
            spec, max_seconds, threads)
        for command in commands:  # sent before the run begins: it loads its data first
            job.actor.command.remote(command)
        job.run_ref = job.actor.run.remote()
        with self._lock:
            self._jobs.append(job)
        threading.Thread(target=self._read, args=(job,), daemon=True, name=f"nnplay-ray-{spec.run_id}").start()
        return job

    def _read(self, job: RayJob) -> None:
        """Long-poll the actor for batches until its JobEnd arrives or it dies."""
        ray = self.ray
        try:
            while not job.done:
                ref = job.actor.poll.remote(POLL_SECONDS)
                ready: list = []
                while not ready and not job.done:
                    ready, _ = ray.wait([ref], timeout=POLL_SECONDS + 1)  # an actor not yet placed waits here
                if job.done:
                    break
                for batch in ray.get(ref):
                    if not job.started:
                        job.started = True
                    job._deliver(batch)
        except Exception as err:  # noqa: BLE001 - RayActorError and friends: the actor is gone
            job._deliver([JobEnd("error", death_sentence(err))])
        finally:
            try:
                ray.kill(job.actor)
            except Exception:  # noqa: BLE001 - already gone
                pass
            with self._lock:
                if job in self._jobs:
                    self._jobs.remove(job)

    def _command(self, job: Job, command: Command) -> None:
        if job.status == "queued" and isinstance(command, Stop):
            # not placed yet (or no batch yet): end it here; the reader stops on done
            job._deliver([JobEnd("stopped", "stopped before it started")])
            return
        job.actor.command.remote(command)
        if isinstance(command, Pause) and job.status == "running":
            job.status = "paused"
        elif isinstance(command, Resume) and job.status == "paused":
            job.status = "running"

    def _position(self, job: Job) -> QueuePosition | None:
        with self._lock:
            waiting = [j for j in self._jobs if not j.started and not j.done]
        if job not in waiting:
            return None
        gpu = job.resources.get("num_gpus") or 0
        ask = f"{job.resources.get('num_cpus', 1):g} CPU" + (f" and {gpu:g} GPU" if gpu else "")
        return QueuePosition(waiting.index(job) + 1, len(waiting),
                             f"waiting for room on the Ray cluster (each run asks for {ask})")

    def actor_pid(self, job: RayJob, timeout: float = 60) -> int:
        """The process id of the Ray worker that trains ``job`` (for tests and operators)."""
        return self.ray.get(job.actor.pid.remote(), timeout=timeout)

    def describe(self) -> str:
        try:
            res = self.ray.cluster_resources()
            nodes = len([n for n in self.ray.nodes() if n.get("Alive")])
            return (f"Ray cluster at {self.address}: {nodes} node{'s' if nodes != 1 else ''}, "
                    f"{res.get('CPU', 0):g} CPUs, {res.get('GPU', 0):g} GPUs")
        except Exception:  # noqa: BLE001
            return f"Ray cluster at {self.address}"

    def close(self, timeout: float = 10.0) -> None:
        """Stop every run and wait for their ends; the Ray connection stays for the process."""
        self._closing = True
        with self._lock:
            jobs = list(self._jobs)
        for job in jobs:
            job.stop()
        for job in jobs:
            if not job.wait(timeout):
                job._deliver([JobEnd("stopped", "the Ray backend shut down")])


def death_sentence(err: BaseException) -> str:
    """Why a run's Ray actor is gone, as a sentence for the run (``err``: what the poll raised). It claims only the
    curves: what model is left the run says itself (``Run``), from what is on disk."""
    cause = str(err).strip().splitlines()
    return (f"the Ray worker training this run died ({type(err).__name__}: "
            f"{cause[0][:200] if cause else 'no details'}). Its curves up to then are kept.")
