"""Start an aiohttp app on 127.0.0.1 on a free port: what every fake server here does."""

from __future__ import annotations

from typing import Any

from aiohttp import web


async def serve_on_loopback(app: web.Application, port: int = 0, **runner_options: Any) -> tuple[web.AppRunner, str]:
    """The started runner and its root URL (``http://127.0.0.1:PORT``); the OS picks the port unless given."""
    runner = web.AppRunner(app, **runner_options)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    server = site._server
    assert server is not None and getattr(server, "sockets", None), "the site did not start listening"
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"
