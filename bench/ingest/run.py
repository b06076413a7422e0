"""Ingest benchmark: upload an N-Triples file through the product (gunicorn + Celery worker + HTTP upload
with curl) and compare its load rate with `oxigraph load` of the same file in the same run; record the peak
memory of the web and worker processes for two file sizes.

    .venv/bin/python bench/ingest/run.py [--sizes 100000 1000000]
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
OXIGRAPH = str(Path(PY).with_name("oxigraph"))


def write_ntriples(path: Path, triples: int) -> None:
    with open(path, "w") as out:
        for i in range(triples):
            s = f"<http://bench.example/product/{i // 10}>"
            if i % 10 == 0:
                out.write(
                    f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://bench.example/Product{i % 7}> .\n"
                )
            else:
                out.write(f'{s} <http://bench.example/p{i % 10}> "value {i} of the benchmark"@en .\n')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def oxigraph_load(path: Path, work: Path) -> tuple[float, int]:
    """Seconds and peak RSS of `oxigraph load` on the same file."""
    location = work / "oxigraph-cli"
    shutil.rmtree(location, ignore_errors=True)
    started = time.perf_counter()
    process = psutil.Popen(
        [OXIGRAPH, "load", "--location", str(location), "--file", str(path)], stdout=subprocess.DEVNULL
    )
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss(process))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    assert process.returncode == 0
    shutil.rmtree(location, ignore_errors=True)
    return elapsed, peak


def manage(env: dict, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True, input=stdin
    ).stdout


SETUP = """
from marketplace.accounts.models import User
from marketplace.accounts.services import organisation_apply, organisation_approve
from marketplace.catalog.services.datasets import dataset_create
from rest_framework.authtoken.models import Token
user = User.objects.create_user("bench", "bench@example.org", "x")
org = organisation_approve(organisation=organisation_apply(user=user, name="Bench"), by=None)
print(Token.objects.create(user=user).key, dataset_create(publisher=org, title="Bench", kind="hosted").pk)
"""


def product_upload(
    path: Path, env: dict, port: int, token: str, dataset_id: int, web: psutil.Process, worker: psutil.Process
) -> dict:
    import requests

    base = f"http://127.0.0.1:{port}"
    peak = {"web": tree_rss(web), "load": tree_rss(worker), "summary": 0}
    started = time.perf_counter()
    curl = subprocess.Popen(
        [
            "curl",
            "-s",
            "-H",
            f"Authorization: Token {token}",
            "-F",
            f"file=@{path}",
            f"{base}/api/datasets/{dataset_id}/uploads/",
        ],
        stdout=subprocess.PIPE,
    )
    while curl.poll() is None:
        peak["web"] = max(peak["web"], tree_rss(web))
        time.sleep(0.05)
    job = json.loads(curl.stdout.read())
    uploaded = time.perf_counter() - started
    loaded = None
    while True:
        status = requests.get(
            f"{base}/api/ingest-jobs/{job['id']}/", headers={"Authorization": f"Token {token}"}
        ).json()
        phase = "summary" if status["status"] in ("summarising", "succeeded") else "load"
        peak[phase] = max(peak[phase], tree_rss(worker))
        if loaded is None and status["status"] in ("summarising", "succeeded"):
            loaded = time.perf_counter() - started
        if status["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    if status["status"] != "succeeded":
        raise SystemExit(f"ingest failed: {status['error']}")
    return {
        "uploaded": uploaded,
        "loaded": loaded,
        "done": time.perf_counter() - started,
        "peak": peak,
        "triples": status["triples_loaded"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "bench",
        "VAR_DIR": str(work / "var"),
        "DATABASE_URL": f"sqlite:///{work}/db.sqlite3",
        "CELERY_BROKER_URL": "filesystem://",
        "RDF_UPLOAD_MAX_BYTES": str(4 * 1024**3),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    env.pop("CELERY_TASK_DEFAULT_QUEUE", None)
    manage(env, "migrate", "--noinput", "-v0")
    token, dataset_id = manage(env, "shell", "-v", "0", "-c", SETUP).strip().splitlines()[-1].split()
    port = free_port()
    web = psutil.Popen(
        [PY, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "600"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    worker = psutil.Popen(
        [PY, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        time.sleep(3)  # let both processes import Django before the first measurement
        for size in args.sizes:
            data = work / f"data-{size}.nt"
            write_ntriples(data, size)
            reference, reference_peak = oxigraph_load(data, work)
            ours = product_upload(data, env, port, token, int(dataset_id), web, worker)
            assert ours["triples"] == size, ours
            rows.append((size, data.stat().st_size, reference, reference_peak, ours))
            data.unlink()
    finally:
        for p in (web, worker):
            p.terminate()
            p.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    print(
        "| triples | file MB | `oxigraph load` s | upload (HTTP) s | uploaded→loaded s | total to loaded s | rate ratio vs oxigraph load | + summary s | peak RSS web MB | peak RSS worker, loading MB | peak RSS worker, summary MB | peak RSS `oxigraph load` MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size, nbytes, reference, reference_peak, ours in rows:
        print(
            f"| {size:,} | {nbytes / 1e6:.0f} | {reference:.2f} | {ours['uploaded']:.2f} | {ours['loaded'] - ours['uploaded']:.2f} | "
            f"{ours['loaded']:.2f} | {reference / ours['loaded']:.2f} | {ours['done'] - ours['loaded']:.2f} | "
            f"{ours['peak']['web'] / 1e6:.0f} | {ours['peak']['load'] / 1e6:.0f} | {ours['peak']['summary'] / 1e6:.0f} | {reference_peak / 1e6:.0f} |"
        )


if __name__ == "__main__":
    main()
