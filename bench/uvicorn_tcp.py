"""Run an ASGI app under uvicorn on a listening socket created with ``proto=IPPROTO_TCP``.

    python bench/uvicorn_tcp.py pygeoapi.starlette_app:APP --host 127.0.0.1 --port 5000 --workers 2

Why: with ``--workers`` > 1, uvicorn binds the socket itself as ``socket(AF_INET, SOCK_STREAM)`` (proto 0); the
connections accepted from it keep proto 0, so asyncio's ``_set_nodelay`` skips them and Nagle's algorithm meets the
client's delayed ACK: every keep-alive response whose headers and body go out in two writes waits ~40 ms. The peer
is started through this launcher so that its multi-worker figures measure pygeoapi, not that stall.
"""

from __future__ import annotations

import argparse
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    config = uvicorn.Config(
        args.app, host=args.host, port=args.port, workers=args.workers, access_log=False, log_level="warning"
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.set_inheritable(True)
    if args.workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
