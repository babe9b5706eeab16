"""Sandbox escape: reach anything listening on this machine or beyond (TCP, UDP, Unix sockets)."""

import socket

import backtrader as bt

CONFIG = {}


def attempt(label, action):
    """Run one attempt and print its outcome."""
    try:
        got = action()
    except Exception as exc:  # noqa: BLE001 - any refusal is an outcome
        print(f"{label}: blocked ({type(exc).__name__}: {exc})")
        return
    print(f"{label}: CONNECTED {got!r}")


def tcp(host, port):
    with socket.create_connection((host, port), timeout=3) as sock:
        sock.sendall(CONFIG["marker"].encode())
        return sock.getpeername()


def udp(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(CONFIG["marker"].encode(), (host, port))
        sock.settimeout(1)
        return sock.recvfrom(100)  # the listener answers every datagram it gets


def unix(name):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        sock.connect(name)
        sock.sendall(CONFIG["marker"].encode())
        return name


class Agent(bt.Strategy):
    """Try every address at start."""

    def start(self):
        for host, port in CONFIG["tcp"]:
            attempt(f"tcp {host}:{port}", lambda h=host, p=port: tcp(h, p))
        for host, port in CONFIG["udp"]:
            attempt(f"udp {host}:{port}", lambda h=host, p=port: udp(h, p))
        for name in CONFIG["unix"]:
            attempt(f"unix {name!r}", lambda n=name: unix(n))
        attempt("dns pypi.org", lambda: socket.getaddrinfo("pypi.org", 443))
        print("network done")

    def next(self):
        pass
