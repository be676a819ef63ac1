"""The production setup on one machine's loopback, all throwaway: Debian's nginx (TLS with
a self-signed certificate, round robin, static files) in front of gunicorn app servers,
one PostgreSQL and one Redis as the shared cache.

    python deploy/cluster.py [--app-servers N]    # what `make cluster` runs; Ctrl-C stops it
    python deploy/cluster.py --stop-leftovers DIR # end what a killed run left under DIR

nginx runs deploy/nginx.conf itself, with the host, certificate, ports and static root
swapped for throwaway ones; the app servers run deploy/gunicorn.conf.py. Every port is
a free loopback port. tests/test_cluster.py and tests/bench.py use the classes below.
Services are started in their own process groups and stopped in reverse order by
Cluster.stop(), which runs even when starting fails halfway.
"""

import argparse
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE_FILE = ROOT / "deploy" / "nginx.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
# Parent of every cluster's temp dir: .ci/run points it somewhere its exit trap can sweep.
PARENT = os.environ.get("HB_CLUSTER_DIR") or None


def pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


def missing() -> list[str]:
    """What this machine lacks to run a cluster (empty when it can)."""
    lack = [name for name in ("nginx", "redis-server", "openssl") if not shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin")]
    if pg_bin() is None:
        lack.append("postgresql (/usr/lib/postgresql/*/bin)")
    if not BROTLI_MODULE.exists():
        lack.append(f"libnginx-mod-http-brotli-static ({BROTLI_MODULE})")
    return lack


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, seconds: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not come up within {seconds:.0f} s. {tail}")


def as_postgres(command: list) -> list:
    """initdb and the server refuse to run as root: run them as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *map(str, command)] if os.geteuid() == 0 else list(map(str, command))


class Process:
    """A long-running child in its own process group, its output in a log file, its pid
    in pids/ so that --stop-leftovers can end it if this Python process is killed."""

    def __init__(self, name: str, command: list, log: Path, pids: Path, env=None, cwd=None):
        self.name, self.command, self.log, self.pids, self.env, self.cwd = name, command, log, pids, env, cwd
        self.process = None

    def start(self):
        with open(self.log, "a") as out:
            self.process = subprocess.Popen(list(map(str, self.command)), stdout=out, stderr=subprocess.STDOUT,
                                            env=self.env, cwd=self.cwd, start_new_session=True)
        (self.pids / f"{self.name}.pid").write_text(str(self.process.pid))

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig=signal.SIGTERM, wait: float = 15):
        if self.process is None:
            return
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, sig)
                self.process.wait(wait)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        (self.pids / f"{self.name}.pid").unlink(missing_ok=True)


class Postgres:
    def __init__(self, root: Path):
        self.dir, self.port, self.bin = root / "postgres", free_port(), pg_bin()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/hormonebone"
        self.started = False

    def start(self):
        self.dir.mkdir()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        run = lambda *cmd: subprocess.run(as_postgres(cmd), check=True, capture_output=True, text=True, timeout=120)  # noqa: E731
        run(self.bin / "initdb", "-D", self.dir / "data", "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self.started = True
        run(self.bin / "pg_ctl", "-D", self.dir / "data", "-o", options, "-l", self.dir / "log", "-w", "-t", "60", "start")
        run(self.bin / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "hormonebone")

    def stop(self):
        if self.started:
            subprocess.run(as_postgres([self.bin / "pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "stop"]),
                           capture_output=True, timeout=60)
            self.started = False


class Redis:
    def __init__(self, root: Path, pids: Path):
        self.dir, self.port = root / "redis", free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        command = ["redis-server", "--port", self.port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                   "--dir", self.dir, "--daemonize", "no"]
        self.process = Process("redis", command, root / "redis.log", pids)

    def ping(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")

    def start(self):
        self.dir.mkdir(exist_ok=True)
        self.process.start()
        wait_for(self.ping, 20, "redis-server", self.process.log)

    def stop(self):
        self.process.stop()


class AppServer:
    def __init__(self, name: str, root: Path, pids: Path, env: dict, workers: int):
        self.name, self.port = name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONF, "hormonebone.wsgi", "-b", f"127.0.0.1:{self.port}"]
        self.process = Process(name, command, root / f"{name}.log", pids, env={**env, "WEB_CONCURRENCY": str(workers)}, cwd=ROOT)

    @property
    def log(self) -> Path:
        return self.process.log

    def healthy(self) -> bool:
        with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
            return r.status == 200

    def start(self):
        self.process.start()

    def wait(self):
        wait_for(lambda: self.process.running and self.healthy(), 60, f"app server {self.name}", self.log)

    def stop(self, sig=signal.SIGTERM):
        """SIGTERM is systemctl stop: gunicorn stops accepting, finishes what is in flight."""
        self.process.stop(sig)

    def worker_rss_mb(self) -> list[float]:
        pid = self.process.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        sizes = []
        for child in children:
            status = Path(f"/proc/{child}/status").read_text()
            sizes.append(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024)
        return sizes


class Nginx:
    def __init__(self, root: Path, pids: Path, static_root: Path, apps: list):
        self.dir, self.port, self.http_port = root / "nginx", free_port(), free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.static_root, self.apps = static_root, apps
        self.cert = self.dir / "cert.pem"
        self.process = Process("nginx", ["nginx", "-p", self.dir, "-c", self.dir / "nginx.conf"], root / "nginx.log", pids)

    def site_file(self) -> str:
        """deploy/nginx.conf with its example values replaced; each must be found, so the
        file and this code cannot drift apart unnoticed."""
        text = SITE_FILE.read_text()
        servers = "".join(f"    server 127.0.0.1:{app.port} max_fails=1 fail_timeout=10s;\n" for app in self.apps)
        swaps = [
            ("    server 127.0.0.1:8001 max_fails=1 fail_timeout=10s;\n    server 127.0.0.1:8002 max_fails=1 fail_timeout=10s;\n", servers),
            ("    listen 80;\n    listen [::]:80;\n", f"    listen 127.0.0.1:{self.http_port};\n"),
            ("    listen 443 ssl http2;\n    listen [::]:443 ssl http2;\n", f"    listen 127.0.0.1:{self.port} ssl http2;\n"),
            ("hormonebone.example.org;", "127.0.0.1 localhost;"),
            ("return 301 https://$host$request_uri;", f"return 301 https://$host:{self.port}$request_uri;"),
            ("/etc/letsencrypt/live/hormonebone.example.org/fullchain.pem", str(self.cert)),
            ("/etc/letsencrypt/live/hormonebone.example.org/privkey.pem", str(self.dir / "key.pem")),
            ("/var/log/nginx/hormonebone.access.log", str(self.dir / "access.log")),
            ("/var/log/nginx/hormonebone.error.log", str(self.dir / "error.log")),
            ("/srv/hormonebone/staticfiles/", f"{self.static_root}/"),
        ]
        for old, new in swaps:
            if old not in text:
                raise RuntimeError(f"deploy/nginx.conf no longer contains {old!r}: update deploy/cluster.py")
            text = text.replace(old, new)
        return text

    def main_config(self) -> str:
        user = "user www-data;\n" if os.geteuid() == 0 else ""
        temp = "".join(f"    {kind}_temp_path {self.dir / 'tmp' / kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        # One worker: round robin state is per worker, and this is a 2-core test machine.
        return (
            f"load_module {BROTLI_MODULE};\n{user}worker_processes 1;\ndaemon off;\npid {self.dir / 'nginx.pid'};\n"
            f"error_log {self.dir / 'error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
            f"    sendfile on;\n{temp}    include {self.dir / 'site.conf'};\n}}\n"
        )

    def start(self):
        (self.dir / "tmp").mkdir(parents=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", self.dir / "key.pem", "-out", self.cert],
            check=True, capture_output=True, timeout=60,
        )
        (self.dir / "site.conf").write_text(self.site_file())
        (self.dir / "nginx.conf").write_text(self.main_config())
        self.process.start()
        context = self.ssl_context()
        wait_for(lambda: self.process.running and urllib.request.urlopen(self.url + "/healthz", timeout=2, context=context).status == 200,
                 30, "nginx", self.dir / "error.log")

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def stop(self):
        self.process.stop(signal.SIGQUIT)  # graceful: finish open requests


class Cluster:
    """nginx -> N app servers -> PostgreSQL + Redis. Use as a context manager."""

    def __init__(self, app_servers: int = 2, workers: int = 2, env: dict | None = None):
        self.root = Path(tempfile.mkdtemp(prefix="hb-cluster-", dir=PARENT))
        self.root.chmod(0o755)  # nginx workers (www-data) read the static files, postgres its dir
        self.pids = self.root / "pids"
        self.pids.mkdir()
        self.postgres = Postgres(self.root)
        self.redis = Redis(self.root, self.pids)
        self.static_root = self.root / "static"
        self.extra_env, self.workers = dict(env or {}), workers
        self.apps = [AppServer(chr(ord("a") + i), self.root, self.pids, {}, workers) for i in range(app_servers)]
        self.nginx = Nginx(self.root, self.pids, self.static_root, self.apps)
        self.url = self.nginx.url

    @property
    def env(self) -> dict:
        """The environment of every app server and of manage.py against this cluster."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "CACHE_URL", "QUIZ_", "AXES_"))}
        return {
            **env,
            "DJANGO_SETTINGS_MODULE": "hormonebone.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": self.secret_key,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SITE_URL": self.url,
            "DJANGO_STATIC_ROOT": str(self.static_root),
            "DATABASE_URL": self.postgres.url,
            "CACHE_URL": self.redis.url,
            "DJANGO_LOG_LEVEL": "WARNING",
            # nginx appends the client to X-Forwarded-For; the tests' many learners all come
            # from this one machine, so the per-address quiz limit would cut them short.
            "DJANGO_TRUSTED_PROXY_COUNT": "1",
            "QUIZ_IP_RATE_LIMIT": "1000000",
            **self.extra_env,
        }

    def manage(self, *args, env=None):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=600)
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
        return done.stdout

    def start(self):
        self.secret_key = secrets.token_urlsafe(50)
        try:
            self.postgres.start()
            self.redis.start()
            static = subprocess.Popen([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=self.env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            self.manage("migrate", "--no-input", "-v0")
            self.manage("import_content")
            if static.wait(600):
                raise RuntimeError("collectstatic failed:\n" + static.stdout.read()[-3000:])
            self.start_apps()
            self.nginx.start()
        except BaseException:
            self.stop()
            raise
        return self

    def start_apps(self, env: dict | None = None):
        """(Re)start every app server, with `env` added to the cluster's environment."""
        for app in self.apps:
            app.stop()
            app.process.env = {**self.env, **(env or {}), "WEB_CONCURRENCY": str(self.workers)}
            app.start()
        for app in self.apps:
            app.wait()

    def stop(self):
        errors = []
        for service in (self.nginx, *self.apps, self.redis, self.postgres):
            try:
                service.stop()
            except Exception as exc:  # keep stopping the others
                errors.append(f"{service.__class__.__name__}: {exc}")
        shutil.rmtree(self.root, ignore_errors=True)
        if errors:
            print("cluster stop: " + "; ".join(errors), file=sys.stderr)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def stop_leftovers(parent: Path):
    """End every service a killed cluster run left under `parent` (.ci/run's exit trap)."""
    for pidfile in parent.glob("hb-cluster-*/pids/*.pid"):
        try:
            os.killpg(int(pidfile.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError, PermissionError):
            pass
    for data in parent.glob("hb-cluster-*/postgres/data"):
        if (data / "postmaster.pid").exists() and pg_bin():
            subprocess.run(as_postgres([pg_bin() / "pg_ctl", "-D", data, "-m", "immediate", "stop"]), capture_output=True, timeout=60)
    for root in parent.glob("hb-cluster-*"):
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-servers", type=int, default=2)
    parser.add_argument("--stop-leftovers", metavar="DIR", type=Path)
    args = parser.parse_args()
    if args.stop_leftovers:
        stop_leftovers(args.stop_leftovers)
        return 0
    if lack := missing():
        sys.exit("make cluster needs: " + ", ".join(lack) + " (apt-get install nginx libnginx-mod-http-brotli-static redis-server postgresql openssl)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cluster = Cluster(app_servers=args.app_servers)
    print(f"Starting in {cluster.root} ...", flush=True)
    with cluster:
        print(f"\n  site           {cluster.url}/   (self-signed certificate: {cluster.nginx.cert})")
        print(f"  plain http     http://127.0.0.1:{cluster.nginx.http_port}/ redirects to it")
        for app in cluster.apps:
            print(f"  app server {app.name}   {app.url}  log {app.log}")
        print(f"  PostgreSQL     {cluster.postgres.url}")
        print(f"  Redis          {cluster.redis.url}")
        print(f"  nginx logs     {cluster.nginx.dir}/access.log, error.log")
        print("\nCtrl-C stops everything and deletes the directory.", flush=True)
        try:
            while all(s.running for s in (cluster.nginx.process, cluster.redis.process, *(a.process for a in cluster.apps))):
                time.sleep(1)
            print("A service exited; stopping the rest.", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nStopping.")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
