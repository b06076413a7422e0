"""Benchmark: upload and download throughput of a large artifact through the application (gunicorn) as a
ratio to nginx serving (GET) and receiving (WebDAV PUT) the same file, and the peak RSS of each server.

Run from the repository root:  .venv/bin/python bench/modelhub/run.py [--sizes-mb 128,1024] [--repeats 3]
Needs /usr/sbin/nginx and curl; everything binds 127.0.0.1 and lives in a temporary folder removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
NGINX = "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


class PeakRss:
    """Samples the RSS of a process tree every 10 ms while a transfer runs; `peak` is the largest sum seen."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak = 0
        self.baseline = self._sample()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def growth(self) -> int:
        return max(self.peak - self.baseline, 0)

    def _sample(self) -> int:
        total = 0
        for p in [self.root, *self.root.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def curl(args: list[str]) -> tuple[float, dict]:
    """Run curl, return (seconds, its write-out JSON)."""
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{json}", *args], capture_output=True, text=True, check=True
    )
    info = json.loads(out.stdout)
    return info["time_total"], info


def app_env(work: Path) -> dict:
    env = dict(os.environ)
    env.update(
        {
            "SECRET_KEY": "bench-only",
            "DEBUG": "0",
            "VAR_DIR": str(work / "var"),
            "MEDIA_ROOT": str(work / "media"),
            "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
            "CELERY_BROKER_URL": "filesystem://",
            "MODELHUB_UPLOAD_MAX_BYTES": str(8 * 1024**3),
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


SETUP = """
import django, json; django.setup()
from rest_framework.authtoken.models import Token
from marketplace.accounts.models import User
from marketplace.accounts.services import organisation_apply, organisation_approve
from modelhub.services.catalog import model_create, variant_create
u = User.objects.create_user(username="bench", email="bench@example.org", password="x")
org = organisation_apply(user=u, name="Bench"); organisation_approve(organisation=org, by=None)
m = model_create(user=u, publisher=org, name="Bench model", task="other")
v = variant_create(user=u, model=m, name="fp32")
print(json.dumps({"token": Token.objects.create(user=u).key, "variant": v.pk}))
"""


def nginx_conf(work: Path, port: int) -> Path:
    conf = work / "nginx.conf"
    conf.write_text(f"""
user root;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log;
events {{ worker_connections 64; }}
http {{
  access_log off;
  sendfile on; tcp_nopush on;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy; fastcgi_temp_path {work}/nginx-fcgi;
  uwsgi_temp_path {work}/nginx-uwsgi; scgi_temp_path {work}/nginx-scgi;
  server {{
    listen 127.0.0.1:{port};
    client_max_body_size 8g;
    location /media/ {{ alias {work}/media/; }}
    location /put/ {{ alias {work}/nginx-put/; dav_methods PUT; create_full_put_path on; }}
  }}
}}
""")
    (work / "nginx-put").mkdir(exist_ok=True)
    return conf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", default="128,1024", help="artifact sizes in MiB (comma-separated)")
    parser.add_argument("--repeats", type=int, default=3, help="downloads per server and size (best is kept)")
    args = parser.parse_args()
    sizes = [int(s) * 1024**2 for s in args.sizes_mb.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-modelhub-"))
    procs: list[subprocess.Popen] = []
    rows = []
    try:
        env = app_env(work)
        subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
        ids = json.loads(
            subprocess.run(
                [PY, "-c", SETUP],
                cwd=ROOT,
                env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        app_port, nginx_port = free_port(), free_port()
        gunicorn = subprocess.Popen(
            [
                str(Path(PY).with_name("gunicorn")),
                "config.wsgi",
                "-b",
                f"127.0.0.1:{app_port}",
                "-w",
                "1",
                "--timeout",
                "600",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        procs.append(gunicorn)
        conf = nginx_conf(work, nginx_port)
        nginx = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"], start_new_session=True)
        procs.append(nginx)
        bare_port = free_port()
        (work / "bare").mkdir()
        bare = subprocess.Popen(
            [
                str(Path(PY).with_name("gunicorn")),
                "bare_wsgi",
                "-b",
                f"127.0.0.1:{bare_port}",
                "-w",
                "1",
                "--timeout",
                "600",
                "--log-level",
                "warning",
            ],
            cwd=Path(__file__).parent,
            env={**env, "BARE_TMP": str(work / "bare")},
            start_new_session=True,
        )
        procs.append(bare)
        for port in (app_port, nginx_port, bare_port):
            wait_port(port)
        # warm up: the first requests import the API and the upload path; that is not per-file memory
        tiny = work / "warmup.onnx"
        tiny.write_bytes(os.urandom(4096))
        for _ in range(2):
            curl(
                [
                    "-H",
                    f"Authorization: Token {ids['token']}",
                    "-F",
                    f"variant={ids['variant']}",
                    "-F",
                    f"file=@{tiny}",
                    f"http://127.0.0.1:{app_port}/api/artifacts/",
                ]
            )
        curl([f"http://127.0.0.1:{app_port}/models/files/{_artifact_id(env, 'warmup.onnx')}/download/"])
        for size in sizes:
            source = work / f"artifact-{size}.bin"
            with open(source, "wb") as out:
                block = os.urandom(1024**2)
                for _ in range(size // 1024**2):
                    out.write(block)
            # upload: the application (multipart POST, streamed by curl) and nginx (WebDAV PUT)
            with PeakRss(gunicorn.pid) as app_up_mem:
                app_up, info = curl(
                    [
                        "-H",
                        f"Authorization: Token {ids['token']}",
                        "-F",
                        f"variant={ids['variant']}",
                        "-F",
                        f"file=@{source};filename=model-{size}.onnx",
                        "-H",
                        "Expect:",
                        f"http://127.0.0.1:{app_port}/api/artifacts/",
                    ]
                )
            assert info["http_code"] == 201, info
            with PeakRss(nginx.pid) as nginx_up_mem:
                nginx_up, info = curl(["-T", str(source), f"http://127.0.0.1:{nginx_port}/put/{size}.bin"])
            assert info["http_code"] in (201, 204), info
            bare_up, info = curl(["-T", str(source), "-H", "Expect:", f"http://127.0.0.1:{bare_port}/"])
            assert info["http_code"] == 201, info
            stored = next((work / "media").rglob(f"model-{size}*.onnx"))
            artifact_id = _artifact_id(env, stored.name)
            rel = stored.relative_to(work / "media")
            app_down, nginx_down = [], []
            with PeakRss(gunicorn.pid) as app_down_mem, PeakRss(nginx.pid) as nginx_down_mem:
                for _ in range(args.repeats):
                    t, info = curl([f"http://127.0.0.1:{app_port}/models/files/{artifact_id}/download/"])
                    assert info["http_code"] == 200 and info["size_download"] == size, info
                    app_down.append(t)
                    t, info = curl([f"http://127.0.0.1:{nginx_port}/media/{rel}"])
                    assert info["http_code"] == 200 and info["size_download"] == size, info
                    nginx_down.append(t)
            mb = size / 1024**2
            rows.append(
                {
                    "size_mib": int(mb),
                    "app_up": mb / app_up,
                    "nginx_up": mb / nginx_up,
                    "bare_up": mb / bare_up,
                    "app_down": mb / min(app_down),
                    "nginx_down": mb / min(nginx_down),
                    "app_up_rss": app_up_mem.growth,
                    "nginx_up_rss": nginx_up_mem.growth,
                    "app_down_rss": app_down_mem.growth,
                    "nginx_down_rss": nginx_down_mem.growth,
                    "app_rss": max(app_up_mem.peak, app_down_mem.peak),
                    "nginx_rss": max(nginx_up_mem.peak, nginx_down_mem.peak),
                }
            )
            source.unlink()
            (work / "nginx-put" / f"{size}.bin").unlink(missing_ok=True)
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"CPU: {os.cpu_count()} logical cores (shared), load average {os.getloadavg()[0]:.1f}; gunicorn 1 sync worker, "
        "nginx 1 worker; client: curl; best of the download repeats"
    )
    print()
    print(
        "| size | upload app MiB/s | upload nginx MiB/s | upload ratio app/nginx | upload bare gunicorn MiB/s | "
        "upload ratio app/bare gunicorn | download app MiB/s | download nginx MiB/s | download ratio app/nginx | "
        "RSS growth app up/down | RSS growth nginx up/down | peak RSS app / nginx |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['size_mib']} MiB | {r['app_up']:.0f} | {r['nginx_up']:.0f} | {r['app_up'] / r['nginx_up']:.2f} | "
            f"{r['bare_up']:.0f} | {r['app_up'] / r['bare_up']:.2f} | "
            f"{r['app_down']:.0f} | {r['nginx_down']:.0f} | {r['app_down'] / r['nginx_down']:.2f} | "
            f"{r['app_up_rss'] / 1024**2:.1f} / {r['app_down_rss'] / 1024**2:.1f} MiB | "
            f"{r['nginx_up_rss'] / 1024**2:.1f} / {r['nginx_down_rss'] / 1024**2:.1f} MiB | "
            f"{r['app_rss'] / 1024**2:.0f} / {r['nginx_rss'] / 1024**2:.0f} MiB |"
        )


def _artifact_id(env: dict, stored_name: str) -> int:
    code = (
        "import django; django.setup(); from modelhub.models import Artifact; "
        f"print(Artifact.objects.filter(file__endswith={stored_name!r}).values_list('pk', flat=True).first())"
    )
    out = subprocess.run(
        [PY, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
