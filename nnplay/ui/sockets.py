"""Turn Nagle's algorithm off on the web server's sockets, which Streamlit's server leaves on.

Why: Streamlit's server (1.67; uvicorn under Starlette) binds its listening socket itself with
``socket.socket(family)``, so the socket's ``proto`` is 0, and so is every accepted connection's.
asyncio sets ``TCP_NODELAY`` on a new connection only when ``proto == IPPROTO_TCP``
(``asyncio.base_events._set_nodelay``), so on these connections Nagle's algorithm stays on. uvicorn
writes a response's headers and its body as two sends: on a keep-alive connection the body then
waits for the browser's delayed ACK of the headers, ~40 ms on Linux. uvicorn's issue #3149 reports
the same for its own pre-bound sockets. A new browser loads over a hundred script files before it
shows a page, a few at a time, so each wait adds up (``scripts/bench_load.py`` times one file over a
kept-alive connection). WebSocket messages (a page's deltas) are held the same way.

The fix is one socket option on the process's listening TCP sockets (connections accepted later
inherit it: checked on Linux, tests/test_sockets.py) and on the connections they have already accepted. The sockets
are found through the process's open file descriptors (``/dev/fd``; none on Windows, where this
does nothing) because Streamlit keeps its socket private. Nothing else here touches them: each
descriptor is duplicated, set and the duplicate closed.
"""

from __future__ import annotations

import os
import socket
import stat

_INET = (socket.AF_INET, socket.AF_INET6)


def _tcp_sockets() -> list[socket.socket]:
    """A duplicate of each TCP socket this process holds; the caller closes them."""
    try:
        fds = [int(name) for name in os.listdir("/dev/fd")]
    except (OSError, ValueError):
        return []
    found = []
    for fd in fds:
        try:
            if not stat.S_ISSOCK(os.fstat(fd).st_mode):
                continue
            copy = os.dup(fd)
        except OSError:  # closed since the listing (the listing's own descriptor), or not ours to read
            continue
        try:
            sock = socket.socket(fileno=copy)
        except OSError:  # a socket Python cannot wrap
            os.close(copy)
            continue
        if sock.family in _INET and sock.type == socket.SOCK_STREAM:
            found.append(sock)
        else:
            sock.close()
    return found


def _local_port(sock: socket.socket) -> int | None:
    try:
        return sock.getsockname()[1]
    except OSError:
        return None


def _listens(sock: socket.socket) -> bool:
    try:
        return bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    except OSError:
        return False


def nodelay_on_server_sockets() -> int:
    """Set ``TCP_NODELAY`` on every listening TCP socket of this process and on the connections
    accepted on their ports; returns how many sockets were set (0 where they cannot be listed)."""
    sockets = _tcp_sockets()
    try:
        listening = [s for s in sockets if _listens(s)]
        ports = {_local_port(s) for s in listening} - {None}
        accepted = [s for s in sockets if s not in listening and _local_port(s) in ports]
        done = 0
        for sock in listening + accepted:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                done += 1
            except OSError:  # a connection closed meanwhile
                pass
        return done
    finally:
        for sock in sockets:
            sock.close()
