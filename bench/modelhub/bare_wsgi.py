"""A bare WSGI app for the benchmark's second peer: it only copies the request body to a file (no Django),
so the gap between it and nginx is what gunicorn's request-body reader costs."""

import os
import tempfile


def application(environ, start_response):
    stream = environ["wsgi.input"]
    with tempfile.NamedTemporaryFile(dir=os.environ.get("BARE_TMP")) as out:
        while True:
            chunk = stream.read(1024 * 1024)
            if not chunk:
                break
            out.write(chunk)
    start_response("201 Created", [("Content-Length", "0")])
    return [b""]
