#!/usr/bin/env python3
"""Start each example server on a free loopback port and check that it answers.

usage: examples_smoke.py DIR   (DIR holds the built example binaries)

Environment, for another target's binaries:
  EXAMPLES_RUNNER   a command to run them with (e.g. the Wine runner of .ci/windows-env)
  EXAMPLES_SUFFIX   the binaries' file suffix (e.g. .exe)
  EXAMPLES_ONLY     comma-separated checks to run (tcp_server,udp_server,tcp_listenfd_server)
"""
import os
import re
import socket
import subprocess
import sys
import time

DIR = sys.argv[1]
RUNNER = os.environ.get("EXAMPLES_RUNNER", "").split()
SUFFIX = os.environ.get("EXAMPLES_SUFFIX", "")
ONLY = [c for c in os.environ.get("EXAMPLES_ONLY", "").split(",") if c]
DEADLINE = 10.0  # seconds per example, generous for a loaded machine
GREETING = b"Hello from mio! Type something and it comes back.\n"  # examples/tcp_server.rs


def start(name, *args, **kw):
    proc = subprocess.Popen([*RUNNER, os.path.join(DIR, name + SUFFIX), *args], stdout=subprocess.PIPE,
                            text=True, **kw)
    line = proc.stdout.readline()
    m = re.search(r"listening on (\S+):(\d+)", line)
    if not m:
        proc.kill()
        sys.exit(f"{name}: unexpected first line {line!r}")
    return proc, (m.group(1), int(m.group(2)))


def recv_exactly(sock, n):
    data = b""
    sock.settimeout(DEADLINE)
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def check_tcp_server():
    proc, addr = start("tcp_server", "127.0.0.1:0")
    try:
        clients = [socket.create_connection(addr, timeout=DEADLINE) for _ in range(20)]
        for i, c in enumerate(clients):
            c.sendall(b"ping %d\n" % i)
        for i, c in enumerate(clients):
            greeting = recv_exactly(c, len(GREETING))
            assert greeting == GREETING, greeting
            echo = recv_exactly(c, len(b"ping %d\n" % i))
            assert echo == b"ping %d\n" % i, echo
        # A large message comes back whole (partial writes are handled).
        big = bytes(range(256)) * 4096  # 1 MiB
        c = clients[0]
        c.setblocking(True)
        import threading
        t = threading.Thread(target=c.sendall, args=(big,))
        t.start()
        back = recv_exactly(c, len(big))
        t.join()
        assert back == big, "1 MiB echo differs"
        for c in clients:
            c.close()
        print("tcp_server: greeting, echo of 20 clients and of 1 MiB OK")
    finally:
        proc.kill()
        proc.wait()


def check_udp_server():
    proc, addr = start("udp_server", "127.0.0.1:0")
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(0.5)
        got = None
        for _ in range(int(DEADLINE / 0.5)):  # UDP may drop: retry, bounded
            s.sendto(b"echo me", addr)
            try:
                got, _ = s.recvfrom(100)
                break
            except socket.timeout:
                continue
        assert got == b"echo me", got
        print("udp_server: echo OK")
    finally:
        proc.kill()
        proc.wait()


def check_listenfd_server():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]

    def hand_over():
        if listener.fileno() != 3:
            os.dup2(listener.fileno(), 3)
        os.set_inheritable(3, True)  # dup2 onto itself would keep close-on-exec
        os.environ["LISTEN_FDS"] = "1"
        os.environ["LISTEN_PID"] = str(os.getpid())

    proc = subprocess.Popen([os.path.join(DIR, "tcp_listenfd_server")], stdout=subprocess.PIPE,
                            text=True, preexec_fn=hand_over, close_fds=False)
    try:
        line = proc.stdout.readline()
        assert f":{port}" in line, line
        c = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        greeting = recv_exactly(c, 10)
        assert greeting.startswith(b"Hello from"), greeting
        print("tcp_listenfd_server: greeting over an inherited socket OK")
    finally:
        proc.kill()
        proc.wait()
        listener.close()

    # Without a socket in the environment it refuses clearly.
    env = {k: v for k, v in os.environ.items() if not k.startswith("LISTEN_")}
    rc = subprocess.run([os.path.join(DIR, "tcp_listenfd_server")], env=env,
                        capture_output=True, timeout=DEADLINE).returncode
    assert rc == 2, rc


for name, check in [("tcp_server", check_tcp_server), ("udp_server", check_udp_server),
                    ("tcp_listenfd_server", check_listenfd_server)]:
    if not ONLY or name in ONLY:
        check()
