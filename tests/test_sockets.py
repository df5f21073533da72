"""The web server's sockets get TCP_NODELAY: the listener (so later connections inherit it) and the
connections it already accepted, and no other socket; the process's descriptors are left as they were."""

import os
import socket
import sys

import pytest

from nnplay.ui.sockets import nodelay_on_server_sockets

pytestmark = pytest.mark.skipif(not os.path.isdir("/dev/fd") or sys.platform == "win32",
                                reason="the sockets are found through /dev/fd")


def nodelay(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_a_listener_bound_as_streamlit_binds_it_and_its_connections_get_nodelay():
    listener = socket.socket(family=socket.AF_INET)  # proto 0, as Streamlit's server binds it
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client_before = socket.create_connection(listener.getsockname())
    accepted_before, _ = listener.accept()
    other = socket.socket(family=socket.AF_INET)  # a socket that is neither: left alone
    try:
        assert listener.proto == accepted_before.proto == 0
        assert nodelay(listener) == nodelay(accepted_before) == 0
        fds_before = sorted(os.listdir("/dev/fd"))

        assert nodelay_on_server_sockets() >= 2

        assert nodelay(listener) and nodelay(accepted_before)
        assert nodelay(other) == 0 and nodelay(client_before) == 0  # a client's connection is not the server's
        assert sorted(os.listdir("/dev/fd")) == fds_before  # every duplicate closed, no original closed
        client_after = socket.create_connection(listener.getsockname())
        accepted_after, _ = listener.accept()
        try:
            if sys.platform.startswith("linux"):  # inherited from the listener (checked on Linux only)
                assert nodelay(accepted_after)
            accepted_before.sendall(b"still open")  # the connection itself is untouched
            assert client_before.recv(16) == b"still open"
        finally:
            client_after.close()
            accepted_after.close()
    finally:
        for sock in (listener, client_before, accepted_before, other):
            sock.close()
