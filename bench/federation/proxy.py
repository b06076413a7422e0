"""Counting reverse proxies: one loopback port per SPARQL endpoint, counting requests and response bytes.

Run as its own process (`python proxy.py CONTROL_PORT [--latency=MS] LISTEN:TARGET ...`) so that counting does
not share the engines' interpreter. `--latency` delays every request by MS milliseconds before forwarding it,
as a network between the engine and the endpoints would (loopback has none). GET /stats on the control port
returns {"LISTEN": [requests, bytes]}; POST /reset zeroes the counters.
"""

from __future__ import annotations

import asyncio
import sys

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "content-encoding",
    "host",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
}


def make_proxy(target: str, counter: list[int], session_box: list[ClientSession], latency_s: float) -> web.Application:
    async def forward(request: web.Request) -> web.StreamResponse:
        counter[0] += 1
        if latency_s:
            await asyncio.sleep(latency_s)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        body = await request.read()
        async with session_box[0].request(
            request.method, target + request.path_qs, headers=headers, data=body or None
        ) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP_BY_HOP:
                    response.headers[key] = value
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(1 << 16):
                counter[1] += len(chunk)
                await response.write(chunk)
            await response.write_eof()
            return response

    app = web.Application(client_max_size=1 << 30)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


async def main(control_port: int, pairs: list[tuple[int, int]], latency_s: float = 0.0) -> None:
    counters = {listen: [0, 0] for listen, _ in pairs}
    session_box: list[ClientSession] = [
        ClientSession(
            connector=TCPConnector(limit=0, limit_per_host=64),
            timeout=ClientTimeout(total=None),
            auto_decompress=False,
        )
    ]
    runners = []
    for listen, target in pairs:
        runner = web.AppRunner(
            make_proxy(f"http://127.0.0.1:{target}", counters[listen], session_box, latency_s), access_log=None
        )
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", listen, backlog=1024).start()
        runners.append(runner)

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response({str(k): v for k, v in counters.items()})

    async def reset(_request: web.Request) -> web.Response:
        for value in counters.values():
            value[0] = value[1] = 0
        return web.json_response({"ok": True})

    control = web.Application()
    control.router.add_get("/stats", stats)
    control.router.add_post("/reset", reset)
    runner = web.AppRunner(control, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", control_port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    control = int(sys.argv[1])
    args = sys.argv[2:]
    latency_ms = 0.0
    if args and args[0].startswith("--latency="):
        latency_ms = float(args.pop(0).split("=", 1)[1])
    pairs = [tuple(int(x) for x in arg.split(":")) for arg in args]
    asyncio.run(main(control, pairs, latency_ms / 1000))  # type: ignore[arg-type]
