"""Reaching a Ray cluster from the app's process, and watching that it still answers.

``connect``: first a plain TCP knock on the address (nothing listening is said at once), then the cluster's
own list of live nodes, read from its GCS: the app's process must sit on one of them, and it joins under the
address that node registered (the loopback for a one-machine cluster started with
``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, else the machine's network address, whatever address the app was
given); then ``ray.init``, once per process (a later backend reuses the connection). ``cluster_state`` reads
the nodes and their CPUs and GPUs with a timeout (a knock first): Ray's own calls (``ray.cluster_resources``)
block while the GCS is gone, and Ray ends the process after 60 s of that, so the backend watches the cluster
with this and lets go of it (``disconnect``) before then.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

KNOCK_SECONDS = 3.0  # the TCP knock on the cluster's address, and the timeout of a read from its GCS
LOOPBACK = ("127.0.0.1", "localhost", "::1")
CLUSTER_SWITCH = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
_init_lock = threading.Lock()
_joined: dict = {}  # the live connection: "knock" (host, port) and "gcs" (host:port; None through Ray Client)


def import_ray():
    try:
        import ray
        from ray._private import auto_init_hook
    except ImportError:
        raise RuntimeError("NNPLAY_RAY_ADDRESS is set but Ray is not installed: "
                           "`pip install -r requirements-ray.txt`, or unset NNPLAY_RAY_ADDRESS to train "
                           "in the local worker pool.") from None
    # a reader thread's late ray.get after ray.shutdown must fail, not start or join a cluster of its own
    auto_init_hook.enable_auto_connect = False
    return ray


class Unreachable(RuntimeError):
    """The cluster at NNPLAY_RAY_ADDRESS cannot be used from here; the message says why and what to do."""

    def __init__(self, address: str, why: str):
        super().__init__(f"could not reach the Ray cluster at NNPLAY_RAY_ADDRESS={address} ({why}). Start it "
                         f"(the commands for one machine and for two nodes are in docs/workers-and-ray.md), "
                         f"or unset NNPLAY_RAY_ADDRESS to train in the local worker pool.")
        self.why = why


def host_port(address: str) -> tuple[str, int]:
    """``host:port`` (or ``ray://host:port``) split; a ValueError with a sentence when it is neither."""
    rest = address.split("://", 1)[-1]
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise ValueError(f"NNPLAY_RAY_ADDRESS must be auto, ray://host:port or host:port; it is {address!r}.")
    return host, int(port)


def knock(host: str, port: int, timeout: float = KNOCK_SECONDS) -> str | None:
    """None when something accepts a TCP connection at host:port, else why not (a few words)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.timeout:
        return f"nothing answered at {host}:{port} within {timeout:g} s"
    except OSError as err:
        return f"nothing answers at {host}:{port}: {err.strerror or err}"


def is_local(ip: str) -> bool:
    """Whether ``ip`` is an address of this machine (a socket can be bound to it)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.bind((ip, 0))
        return True
    except OSError:
        return False


def live_nodes(ray, gcs_address: str) -> list[str]:
    """The addresses the cluster's live nodes registered under, read from its GCS."""
    from ray._raylet import GcsClient  # the client `ray status` uses; no ray.init needed

    infos = GcsClient(address=gcs_address).get_all_node_info(timeout=KNOCK_SECONDS)
    return sorted({info.node_manager_address for info in infos.values() if info.state == 0})  # 0: ALIVE


def _auto_address(address: str) -> str:
    """The head address ``auto`` stands for: the cluster last started on this machine."""
    from ray._private.services import get_ray_address_from_environment

    try:
        found = get_ray_address_from_environment("auto", None)
    except Exception:  # noqa: BLE001 - no cluster recorded on this machine
        found = None
    if not found or found == "auto":
        raise Unreachable(address, "no Ray cluster was started on this machine: `ray start --head` records one")
    return found


def plan(ray, address: str) -> dict:
    """How to join the cluster at ``address`` from this machine: ``ray.init``'s address and node address, and
    whether the cluster lives on the loopback. Raises ``Unreachable`` with the reason."""
    if address.startswith("ray://"):  # Ray Client: the client server does the rest
        why = knock(*host_port(address))
        if why:
            raise Unreachable(address, why)
        return {"address": address}
    host, port = host_port(_auto_address(address) if address == "auto" else address)
    why = knock(host, port)
    if why:
        raise Unreachable(address, why)
    try:
        nodes = live_nodes(ray, f"{host}:{port}")
    except Exception as err:  # noqa: BLE001 - something answers, but not a Ray head
        raise Unreachable(address, f"{host}:{port} answers but is not a Ray head ({type(err).__name__})") from None
    if not nodes:
        raise Unreachable(address, f"the head at {host}:{port} has no live node")
    here = [ip for ip in nodes if ip in LOOPBACK or is_local(ip)]
    if not here:
        raise Unreachable(address, f"its nodes registered under {', '.join(nodes)}, none of them this machine: "
                                   f"the app must run on one of them (`ray start --address={nodes[0]}:{port}` "
                                   f"here), or reach the cluster through Ray Client (ray://HEAD:10001)")
    node = next((ip for ip in here if ip in LOOPBACK), here[0])
    loopback = node in LOOPBACK
    # the head's GCS listens on the loopback only when the cluster lives there; else on every address
    return {"address": f"{'127.0.0.1' if loopback else node}:{port}", "node": "127.0.0.1" if loopback else node,
            "loopback": loopback, "registered": node}


def _cluster_mode(ray, loopback: bool) -> None:
    """Tell Ray whether the cluster lives on the loopback: it rewrites 127.0.0.1 to the machine's network
    address unless ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER`` is 0, which it reads once, at import."""
    os.environ[CLUSTER_SWITCH] = "0" if loopback else "1"
    constants = getattr(getattr(ray, "_private", None), "ray_constants", None)
    if constants is not None and hasattr(constants, "ENABLE_RAY_CLUSTER"):
        constants.ENABLE_RAY_CLUSTER = not loopback


def connect(address: str):
    """``ray.init`` for the cluster at ``address``, once per process (later calls reuse the connection).
    Returns the ray module; ``Unreachable`` (a RuntimeError) with a sentence when it cannot."""
    if address != "auto":
        why = knock(*host_port(address))  # before importing ray (seconds): nothing listening is said at once
        if why:
            raise Unreachable(address, why)
    ray = import_ray()
    with _init_lock:
        if ray.is_initialized():
            if not _joined:  # joined by someone else in this process (a script's own ray.init)
                _joined.update(knock=host_port(address), gcs=None if address.startswith("ray://") else
                               ray.get_runtime_context().gcs_address)
            return ray
        target = plan(ray, address)
        package = Path(__file__).resolve().parent.parent
        # ship nnplay itself, so nodes on other machines run this code (they need torch installed)
        # and the app's data folder, so a run reads the dataset the app shows (a node without it at that
        # path loads it as the app would: torchvision's download, else the built-in sample)
        data_dir = {"NNPLAY_DATA_DIR": os.environ["NNPLAY_DATA_DIR"]} if os.environ.get("NNPLAY_DATA_DIR") else {}
        runtime_env = {"py_modules": [str(package)], "env_vars": {"PYTHONUNBUFFERED": "1", **data_dir}}
        options = {}
        if "node" in target:  # Ray Client takes only the runtime env
            _cluster_mode(ray, target["loopback"])
            options = {"log_to_driver": False, "configure_logging": False, "include_dashboard": False,
                       "_node_ip_address": target["node"]}
        try:
            ray.init(address=target["address"], runtime_env=runtime_env, **options)
        except Exception as err:  # noqa: BLE001 - ConnectionError, RpcError, TimeoutError…: say it, try again later
            try:
                ray.shutdown()
            except Exception:  # noqa: BLE001
                pass
            first = str(err).strip().splitlines()
            raise Unreachable(address, f"ray.init failed: {type(err).__name__}: "
                                       f"{first[0][:200] if first else 'no details'}") from None
        _joined.clear()
        _joined.update(knock=host_port(target["address"]), gcs=target["address"] if "node" in target else None)
    return ray


def silent(timeout: float = KNOCK_SECONDS) -> str | None:
    """Why the joined cluster's head does not take a TCP connection now (a few words), None when it does."""
    return knock(*_joined["knock"], timeout=timeout) if _joined else "not connected"


def cluster_state(ray) -> dict:
    """The connected cluster's live nodes (how many, ``alive``, and the addresses they registered under) and its
    ``resources`` (CPU, GPU…) summed over them, within about ``2 * KNOCK_SECONDS``; raises with the reason (a few words) when it does not answer."""
    why = silent()
    if why:
        raise ConnectionError(why)
    if _joined["gcs"] is None:  # Ray Client: its server answers for the cluster
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        return {"alive": len(nodes), "nodes": sorted({n.get("NodeManagerAddress", "") for n in nodes}),
                "resources": ray.cluster_resources()}
    from ray._raylet import GcsClient

    try:
        infos = [i for i in GcsClient(address=_joined["gcs"]).get_all_node_info(timeout=KNOCK_SECONDS).values()
                 if i.state == 0]  # 0: ALIVE
    except Exception as err:  # noqa: BLE001 - RpcError: its GCS did not answer in time
        raise ConnectionError(f"its GCS did not answer within {KNOCK_SECONDS:g} s ({type(err).__name__})") from None
    resources: dict = {}
    for info in infos:
        for name, amount in info.resources_total.items():
            resources[name] = resources.get(name, 0) + amount
    return {"alive": len(infos), "nodes": sorted({i.node_manager_address for i in infos}), "resources": resources}


def disconnect(ray) -> None:
    """``ray.shutdown`` of a connection whose cluster is gone (about 5 s), so Ray does not end the process; the
    next ``connect`` joins afresh."""
    with _init_lock:
        _joined.clear()
        try:
            ray.shutdown()
        except Exception:  # noqa: BLE001 - it lets go of a dead cluster as best it can
            pass
