"""Performance report: throughput under load, page weight, and glossary-linking cost.

Run with `make bench`. Everything is throwaway: a temp SQLite database, a temp PostgreSQL
(deploy/cluster.py's), a temp STATIC_ROOT, gunicorn on a free loopback port with
production settings (deploy/gunicorn.conf.py, 2 workers), killed at the end; then the
whole cluster (nginx, app servers, PostgreSQL, Redis) with two app servers and with one.
It is a report, so it exits 0 even when a target fails; non-zero only if setup or the
server fails. BENCH_SECONDS (default 8) sets the duration of each load run.
`python -m tests.bench search` runs only the search measurement (both databases, 1x and 10x).
"""

import gzip
import http.client
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode, urlsplit

import brotli

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "lessons" / "content"
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
CONNECTIONS = 16
TRIVIAL, LESSON, GLOSSARY = "/robots.txt", "/lessons/bone-is-alive/intermediate/", "/glossary/"
QUIZ = "/lessons/bone-is-alive/fundamentals/quiz/"
TERM = "/glossary/{slug}/"  # the first bundled term, filled in by public_pages()
FORM_FIELDS = ("attempt", "question", "choice")
WEIGHT_BUDGET_KB, PAGE_RATIO_TARGET, ANSWER_RATIO_TARGET = 60, 0.60, 0.25
WORKERS = 2


def public_pages() -> list:
    """Every anonymous GET page, with the label the report prints."""
    slug = tomllib.loads((CONTENT / "glossary.toml").read_text())["term"][0]["slug"]
    return [
        ("course map / (new reader)", "/"),
        ("course map / (progress)", "/"),
        ("lesson tier page", LESSON),
        ("glossary index", GLOSSARY),
        ("term page", TERM.format(slug=slug)),
        ("quiz page (a question)", QUIZ),
        ("search page (new reader)", "/search/?q=decoy+receptor"),
    ]


def print_machine():
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    cpu = (platform.processor() or platform.machine()) + (f" ({model.group(1)})" if model else "")
    generator = f"wrk ({shutil.which('wrk')})" if shutil.which("wrk") else "Python threads (wrk not found)"
    print(f"machine   {cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}")
    print(f"python    {platform.python_version()} ({sys.executable})")
    print(f"load avg  {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on this machine skews every figure)")
    print(f"load      {generator}, {CONNECTIONS} connections, {SECONDS} s per target\n")


def child_env(tmp: Path, database_url: str) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "hormonebone.settings",
        "DATABASE_URL": database_url,
        "DJANGO_STATIC_ROOT": str(tmp / "static"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_HTTPS": "0",
        "AXES_ENABLED": "0",
        "QUIZ_RATE_LIMIT": "1000000",
        "WEB_CONCURRENCY": str(WORKERS),
    }


def prepare_site(env: dict, static=True):
    steps = [["migrate", "--no-input"], ["import_content"]] + ([["collectstatic", "--no-input"]] if static else [])
    for args in steps:
        command = [sys.executable, "manage.py", *args, "-v0"]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        if done.returncode:
            sys.exit(f"manage.py {args[0]} failed:\n{done.stdout}{done.stderr}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, port: int, log) -> subprocess.Popen | None:
    cmd = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "hormonebone.wsgi", "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if Client(port).request("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(server)
    return None


def stop_server(server: subprocess.Popen):
    if server.poll() is None:
        server.send_signal(signal.SIGINT)  # gunicorn: INT is a quick shutdown, TERM waits 30 s
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class Client:
    """One HTTP connection with its own cookie jar. Cookies are kept by hand because the
    production cookies are Secure, and a browser-faithful jar would not send them over http."""

    def __init__(self, port: int, cookies: dict | None = None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = dict(cookies or {})

    def request(self, method, path, form=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method == "POST":
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        try:
            self.conn.request(method, path, body, headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            raise OSError(str(exc)) from exc
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers, data

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


# --- Load generation -------------------------------------------------------------------

def wrk_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def load_with_wrk(port, path, cookie_header):
    url = f"http://127.0.0.1:{port}{path}"
    cookie = ["-H", f"Cookie: {cookie_header}"] if cookie_header else []
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", *cookie, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 30).stdout
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk output not understood:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": wrk_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)),
        "p99": wrk_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0),
    }


def load_with_threads(worker, threads=CONNECTIONS):
    """Run `worker(deadline, record)` in parallel threads; each calls record(seconds, ok)."""
    latencies, errors, lock = [], [0], threading.Lock()
    deadline = time.monotonic() + SECONDS

    def record(elapsed, ok):
        if time.monotonic() > deadline:
            return
        with lock:
            if ok:
                latencies.append(elapsed)
            else:
                errors[0] += 1

    pool = [threading.Thread(target=worker, args=(deadline, record), daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(SECONDS + 30)
    latencies.sort()
    return {"rps": len(latencies) / SECONDS, "p50": percentile_ms(latencies, 0.50),
            "p99": percentile_ms(latencies, 0.99), "errors": errors[0]}


def percentile_ms(ordered, q):
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def page_reader(port, path, cookies):
    def worker(deadline, record):
        client = Client(port, cookies)
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                ok = client.request("GET", path)[0] == 200
            except OSError:
                ok = False
            record(time.perf_counter() - start, ok)
    return worker


def quiz_answers(port) -> list:
    """Each question's id and one of its choices, learnt by taking the quiz once page by page."""
    client, answers = Client(port), []
    client.request("GET", QUIZ)
    client.request("POST", QUIZ + "start/")
    while True:
        page = client.request("GET", QUIZ)[2].decode()
        form = {name: re.search(rf'name="{name}" value="(\d+)"', page) for name in FORM_FIELDS}
        if not all(form.values()):
            return answers  # results page: every question answered once
        form = {name: match.group(1) for name, match in form.items()}
        answers.append(form)
        client.request("POST", QUIZ + "answer/", form)


def quiz_learner(port, answers: list):
    """One learner per thread, taking the quiz again and again: a start POST and one GET of the
    quiz page (for the new attempt's id), then one answer POST per question, without reloading.
    Only the answer POSTs are recorded; the two other requests per attempt share the workers."""

    def worker(deadline, record):
        client = Client(port)
        while time.monotonic() < deadline:
            try:
                if not client.cookies.get("csrftoken"):
                    client.request("GET", QUIZ)
                client.request("POST", QUIZ + "start/")
                attempt = re.search(r'name="attempt" value="(\d+)"', client.request("GET", QUIZ)[2].decode())
                if not attempt:
                    record(0, False)
                    continue
                for form in answers:
                    start = time.perf_counter()
                    status = client.request("POST", QUIZ + "answer/", {**form, "attempt": attempt.group(1)})[0]
                    record(time.perf_counter() - start, status == 302)
            except OSError:
                record(0, False)
    return worker


def measure_throughput(port, database: str, server) -> dict:
    reader = Client(port)
    reader.request("GET", LESSON)  # the returning reader's signed-cookie session and CSRF cookie
    reader.request("GET", QUIZ)
    reader.request("POST", QUIZ + "start/")  # so the quiz page shows a question
    cookies = reader.cookies
    results = {}
    for label, path in [("trivial view /robots.txt", TRIVIAL), *public_pages()]:
        for _ in range(20):  # warm both workers: templates, URL resolver, connections
            Client(port, cookies).request("GET", path)
        # A new reader has no cookies: the course map is the same (cached) page for all of them.
        new_reader = label.endswith("(new reader)")
        if shutil.which("wrk"):
            results[label] = load_with_wrk(port, path, "" if new_reader else reader.cookie_header())
        else:
            results[label] = load_with_threads(page_reader(port, path, {} if new_reader else cookies))
    results["quiz answer POST"] = load_with_threads(quiz_learner(port, quiz_answers(port)))
    rss = worker_rss_mb(server.pid)

    print(f"Throughput on {database}: gunicorn, {WORKERS} sync workers, loopback. {TRIVIAL} is the trivial view (plain Django view, no DB).")
    print("Quiz answers: Python threads, one learner each; each attempt also POSTs start and GETs the quiz page once (not counted).")
    trivial = results["trivial view /robots.txt"]["rps"]
    for label, r in results.items():
        ratio = r["rps"] / trivial if trivial else 0
        line = f"  {label:26} {r['rps']:8.1f} req/s   p50 {r['p50']:6.1f} ms   p99 {r['p99']:6.1f} ms   errors {r['errors']}"
        if label != "trivial view /robots.txt":
            target = ANSWER_RATIO_TARGET if label == "quiz answer POST" else PAGE_RATIO_TARGET
            line += f"   ratio {ratio:.2f} {'PASS' if ratio >= target else 'FAIL'} (target >= {target:.2f})"
        print(line)
    print(f"  memory per worker (RSS after the runs): {', '.join(f'{mb:.0f} MB' for mb in rss)}\n")
    return results


def worker_rss_mb(master_pid: int) -> list:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for child in children:
        status = Path(f"/proc/{child}/status").read_text()
        sizes.append(int(re.search(r"^VmRSS:\s+(\d+)", status, re.M).group(1)) / 1024)
    return sizes


def measure_cluster(tmp: Path):
    """Requests per second through nginx (TLS) with two app servers, then with one."""
    from deploy.cluster import Cluster, missing

    if lack := missing():
        print(f"Cluster: not measured, this machine lacks {', '.join(lack)}\n")
        return
    if not shutil.which("wrk"):
        print("Cluster: not measured, wrk is not installed\n")
        return
    print(f"Cluster: nginx (TLS, 1 worker) -> app servers (gunicorn, {WORKERS} workers each) -> PostgreSQL + Redis, "
          f"all on this machine's {os.cpu_count()} CPUs; wrk over https")
    cluster = Cluster(app_servers=2, workers=WORKERS, env={"AXES_ENABLED": "0", "QUIZ_RATE_LIMIT": "1000000"})
    with cluster:
        rows = {}
        for servers in (2, 1):
            if servers == 1:
                cluster.apps[1].stop()
            for label, path in [("trivial view", TRIVIAL), ("lesson tier page", LESSON)]:
                rows[(servers, label)] = load_with_wrk_url(cluster.url + path)
        for label in ("trivial view", "lesson tier page"):
            two, one = rows[(2, label)], rows[(1, label)]
            print(f"  {label:18} 2 app servers {two['rps']:8.1f} req/s (p99 {two['p99']:6.1f} ms)   "
                  f"1 app server {one['rps']:8.1f} req/s (p99 {one['p99']:6.1f} ms)   2 vs 1: {two['rps'] / one['rps']:.2f}x")
    if (os.cpu_count() or 1) <= 2:
        print(f"  Note: with {os.cpu_count()} CPUs shared by nginx, every gunicorn worker, PostgreSQL, Redis and wrk, a second app "
              "server adds processes, not cores: this shows the overhead of the setup, not how it scales.")
    print()


def load_with_wrk_url(url):
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=SECONDS + 30).stdout
    if "Requests/sec" not in out:
        raise RuntimeError(f"wrk output not understood:\n{out}")
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p99": wrk_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)),
    }


# --- Page weight -----------------------------------------------------------------------

class ResourceLinks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.styles, self.scripts, self.loaded = [], [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.styles.append(a["href"])
        if tag == "script" and a.get("src"):
            self.scripts.append(a["src"])
        if tag in {"script", "link", "img", "source", "iframe", "video", "audio", "embed"}:
            for name in ("src", "href", "srcset"):
                if a.get(name):
                    self.loaded.extend(part.split()[0] for part in a[name].split(",") if part.strip())


def third_party(url: str, port: int) -> bool:
    host = urlsplit(url.strip()).netloc
    return bool(host) and host not in {f"127.0.0.1:{port}", f"localhost:{port}"}


def measure_page_weight(port):
    client = Client(port)
    client.request("GET", LESSON)
    status, headers, body = client.request("GET", LESSON, headers={"Accept-Encoding": "gzip, br"})
    encoding = headers.get("Content-Encoding")
    if encoding == "gzip":
        html, html_size, how = gzip.decompress(body).decode(), len(body), "gzip from the server"
    elif encoding:
        html, html_size, how = "", len(body), f"{encoding} from the server, links not checked"
    else:
        html, html_size = body.decode(), len(gzip.compress(body, 6))
        how = "server sent it uncompressed; gzip -6 by the bench"
    links = ResourceLinks()
    links.feed(html)
    print(f"\nPage weight of {LESSON} (HTTP {status}), Accept-Encoding: gzip, br:")
    print(f"  {'HTML':58} {html_size / 1024:6.1f} KB  ({len(html.encode())} B raw, {how})")
    total, css_text = html_size, []
    for url in links.styles + links.scripts:
        s, h, data = client.request("GET", url, headers={"Accept-Encoding": "gzip, br"})
        total += len(data)
        encoding = h.get("Content-Encoding") or "uncompressed"
        print(f"  {url:58} {len(data) / 1024:6.1f} KB  (HTTP {s}, {encoding})")
        if url in links.styles:
            plain = {"gzip": gzip.decompress, "br": brotli.decompress}.get(encoding, lambda d: d)(data)
            css_text.append(plain.decode(errors="replace"))
    verdict = "PASS" if total / 1024 <= WEIGHT_BUDGET_KB else "FAIL"
    print(f"  {'total (compressed)':58} {total / 1024:6.1f} KB  {verdict} (budget {WEIGHT_BUDGET_KB} KB)")
    foreign = [u for u in links.loaded if third_party(u, port)]
    foreign += re.findall(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")\s]+)", "".join(css_text))
    verdict = "PASS" if not foreign else "FAIL " + ", ".join(foreign)
    print(f"  third-party URLs in script/link/img src/href/srcset and CSS url()/@import: {len(foreign)} {verdict}")


# --- Glossary linking ------------------------------------------------------------------

def best_of(fn, runs=5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def academic_text(min_bytes=26_000) -> str:
    from lessons.rendering import DIAGRAM_LINE

    paragraphs = []
    for path in sorted(CONTENT.glob("*/academic.md")):
        body = re.sub(r"\A\+\+\+\n.*?\n\+\+\+\n", "", path.read_text(), flags=re.S)
        for paragraph in DIAGRAM_LINE.sub("", body).split("\n\n"):
            paragraphs.append(paragraph)
            if len("\n\n".join(paragraphs).encode()) >= min_bytes:
                return "\n\n".join(paragraphs)
    return "\n\n".join(paragraphs)


def glossary_entries(count=2000) -> list:
    from lessons.models import TIERS

    terms = tomllib.loads((CONTENT / "glossary.toml").read_text())["term"]
    entries = [
        (t["slug"], [t["term"], *t.get("aliases", [])], t.get("case_sensitive", False),
         {tier: t.get(f"short_{tier}") or t["short"] for tier in TIERS})
        for t in terms
    ]
    rng, syllables = random.Random(1), "zor bti dex oma kal vir ple sto nyx qua lin tre".split()
    while len(entries) < count:
        word = "".join(rng.choice(syllables) for _ in range(3)) + f"ide-{len(entries)}"
        names = [word, f"{word} receptor"] if len(entries) % 3 == 0 else [word]
        entries.append((word, names, len(entries) % 10 == 0, {tier: f"A made-up term, {word}." for tier in TIERS}))
    return entries


def cited_references(text: str) -> dict:
    """The bundled reference for every key cited in the text, a stand-in for any other."""
    fields = "key authors title journal year volume pages doi pmid url".split()
    bundled = tomllib.loads((CONTENT / "references.toml").read_text())["reference"]
    known = {r["key"]: SimpleNamespace(**{f: r.get(f, "") for f in fields}) for r in bundled}
    keys = {k for cite in re.findall(r"\[(@[^\]\n]+)\]", text) for k in re.findall(r"@([A-Za-z0-9][\w.-]*)", cite)}
    stand_in = {f: "" for f in fields} | {"authors": "Anon", "year": 2000}
    return {k: known.get(k) or SimpleNamespace(**stand_in | {"key": k, "title": k}) for k in keys}


def naive_linking_ms(html: str, entries: list, budget_s=20.0):
    """Regex per name over the whole HTML, as a first attempt at linking would do."""
    names = [(slug, name, cs) for slug, ns, cs, _ in entries for name in ns]
    start, done = time.perf_counter(), 0
    for slug, name, case_sensitive in names:
        pattern = r"\b" + re.escape(name) + r"\b"
        link = f'<a href="/glossary/{slug}/">\\g<0></a>'
        html = re.subn(pattern, link, html, count=1, flags=0 if case_sensitive else re.I)[0]
        done += 1
        if time.perf_counter() - start > budget_s:
            break
    elapsed = (time.perf_counter() - start) * 1000
    return elapsed * len(names) / done, done < len(names), len(names)


def render_timings(rendering, text, glossary, references, runs=5):
    """Best-of-`runs` time of render_tier, and of the GlossaryLinker pass inside it.
    The pass is timed directly by wrapping its run() method: a difference of two noisy
    whole-render timings cannot resolve a few milliseconds."""
    inside, original = [0.0], rendering.GlossaryLinker.run

    def timed_run(self, root):
        start = time.perf_counter()
        try:
            return original(self, root)
        finally:
            inside[0] += time.perf_counter() - start

    rendering.GlossaryLinker.run = timed_run
    try:
        best_total = best_inside = float("inf")
        for _ in range(runs):
            inside[0], start = 0.0, time.perf_counter()
            rendering.render_tier(text, "academic", rendering.RenderSources(glossary, references))
            best_total, best_inside = min(best_total, time.perf_counter() - start), min(best_inside, inside[0])
    finally:
        rendering.GlossaryLinker.run = original
    return best_total * 1000, best_inside * 1000


def measure_glossary_linking(env: dict):
    os.environ.update({**env, "DJANGO_SETTINGS_MODULE": "hormonebone.settings"})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import markdown

    from lessons import rendering

    text, entries = academic_text(), glossary_entries()
    references = cited_references(text)
    build_ms = best_of(lambda: rendering.Glossary(entries))
    glossary = rendering.Glossary(entries)
    plain_ms = best_of(lambda: markdown.Markdown(extensions=rendering.EXTENSIONS + ["toc"]).convert(text))
    full_ms, pass_ms = render_timings(rendering, text, glossary, references)
    unlinked_ms, empty_pass_ms = render_timings(rendering, text, rendering.Glossary([]), references)
    linked = rendering.render_tier(text, "academic", rendering.RenderSources(glossary, references))
    plain_html = markdown.Markdown(extensions=rendering.EXTENSIONS + ["toc"]).convert(text)
    naive_ms, extrapolated, name_count = naive_linking_ms(plain_html, entries)
    real_terms = len(tomllib.loads((CONTENT / "glossary.toml").read_text())["term"])

    verdict = "PASS" if pass_ms <= plain_ms else "FAIL"
    naive_note = "extrapolated from a partial run" if extrapolated else "one run, all names"
    print(f"\nGlossary linking, in-process, best of 5: {len(text.encode()) / 1000:.1f} kB markdown, {len(entries)} terms "
          f"({real_terms} bundled), {name_count} names, {len(references)} references")
    rows = [
        ("markdown only", plain_ms, ""),
        ("full pipeline (render_tier)", full_ms, f"{len(linked.terms)} terms linked, {len(linked.citations)} citations"),
        ("same with an empty Glossary([])", unlinked_ms, ""),
        ("linker added (full - empty Glossary)", full_ms - unlinked_ms, "lower bound: both fold the text"),
        ("linker pass, timed inside render_tier", pass_ms, f"{verdict} (target <= markdown only)"),
        ("  same pass with an empty Glossary([])", empty_pass_ms, ""),
        ("glossary build (Glossary(entries))", build_ms, ""),
        ("naive regex-per-name loop", naive_ms, naive_note),
    ]
    for label, ms, note in rows:
        print(f"  {label:40} {ms:8.1f} ms   {note}".rstrip())
    print(f"  {'naive / linker pass':40} {naive_ms / pass_ms if pass_ms > 0 else float('inf'):8.1f} x")


# --- Search ---------------------------------------------------------------------------

SEARCH_QUERIES = ["decoy receptor", "T-score", "osteoclst", "resorbing", "RANKL denosumab", "PTH",
                  "estrogen bone loss", "vitamin D", "osteocl", "fracture risk calculator"]
SEARCH_P95_TARGET_MS = 20

GROW_COURSE = """
from lessons.models import Lesson, TierText
originals = list(Lesson.objects.prefetch_related("tiers"))
for copy in range(1, {times}):
    for lesson in originals:
        clone = Lesson.objects.create(slug=f"{{lesson.slug}}-{{copy}}", title=f"{{lesson.title}} ({{copy}})",
                                      summary=lesson.summary, order=lesson.order + 100 * copy, status=lesson.status)
        for text in lesson.tiers.all():
            text.pk, text.lesson = None, clone
            text.save(render=False)  # indexed by TierText.save, as an import would be
"""


def wipe_postgres(env: dict):
    script = "from django.db import connection\nwith connection.cursor() as c: c.execute('DROP SCHEMA public CASCADE; CREATE SCHEMA public')"
    subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + script], cwd=ROOT, env=env, check=True, timeout=120)


def reader_cookies(port) -> dict:
    """The cookies of a reader who has opened a lesson: their searches are personal (results at
    their depth), so they are searched every time; a new reader's repeat comes from the page cache."""
    client = Client(port)
    client.request("GET", LESSON)
    return client.cookies


def searcher(port, record_all):
    """Each thread cycles through SEARCH_QUERIES from its own starting point, as a reader."""

    def worker(deadline, record):
        client, i = Client(port, reader_cookies(port)), random.randrange(len(SEARCH_QUERIES))
        while time.monotonic() < deadline:
            path = "/search/?" + urlencode({"q": SEARCH_QUERIES[i % len(SEARCH_QUERIES)]})
            i += 1
            start = time.perf_counter()
            try:
                ok = client.request("GET", path)[0] == 200
            except OSError:
                ok = False
            elapsed = time.perf_counter() - start
            record(elapsed, ok)
            if ok and time.monotonic() <= deadline:
                record_all.append(elapsed)
    return worker


def serial_ms(port, paths, rounds=20) -> tuple:
    """p50 and p95 with one client, one request at a time: the latency a reader sees without queueing."""
    client, times = Client(port, reader_cookies(port)), []
    for _ in range(rounds):
        for path in paths:
            start = time.perf_counter()
            client.request("GET", path)
            times.append(time.perf_counter() - start)
    times.sort()
    return percentile_ms(times, 0.50), percentile_ms(times, 0.95)


def measure_search(tmp: Path, databases: list):
    """Search against the trivial view, with the bundled course and a course ten times its size."""
    print(f"\nSearch: /search/?q= cycling {len(SEARCH_QUERIES)} queries (hits, a typo, a prefix), gunicorn {WORKERS} workers;")
    print(f"  under load: Python threads, {CONNECTIONS} connections, {SECONDS} s; serial: one client, 200 requests in a row;")
    print("  as a reader who has opened a lesson, so every search runs (a new reader's repeated query is a page-cache hit).")
    searches = ["/search/?" + urlencode({"q": q}) for q in SEARCH_QUERIES]
    for label, url in databases:
        for times in (1, 10):
            if url.startswith("sqlite"):
                env = child_env(tmp, f"sqlite:///{tmp / f'search-{times}.sqlite3'}")
            else:
                env = child_env(tmp, url)
                wipe_postgres(env)
            prepare_site(env, static=not (tmp / "static").exists())  # collected once (the main run did it already)
            if times > 1:
                grow = [sys.executable, "manage.py", "shell", "-c", GROW_COURSE.format(times=times)]
                subprocess.run(grow, cwd=ROOT, env=env, check=True, capture_output=True, timeout=900)
            port = free_port()
            with open(tmp / f"gunicorn-search-{label}-{times}.log", "w+") as log:
                server = start_server(env, port, log)
                if server is None:
                    print(f"  {label} x{times}: gunicorn did not start")
                    continue
                try:
                    for path in searches * 3:
                        Client(port).request("GET", path)
                    trivial = load_with_threads(page_reader(port, TRIVIAL, {}))
                    loaded = []
                    result = load_with_threads(searcher(port, loaded))
                    loaded.sort()
                    p50, p95 = serial_ms(port, searches)
                    trivial_p50, trivial_p95 = serial_ms(port, [TRIVIAL] * len(searches))
                finally:
                    stop_server(server)
            ratio = result["rps"] / trivial["rps"] if trivial["rps"] else 0
            verdict = ("PASS" if p95 <= SEARCH_P95_TARGET_MS else "FAIL") + f" (target <= {SEARCH_P95_TARGET_MS} ms)"
            print(f"  {label:10} x{times:<3} {result['rps']:7.1f} req/s (trivial {trivial['rps']:.0f}, ratio {ratio:.2f}), "
                  f"loaded p95 {percentile_ms(loaded, 0.95):6.1f} ms, errors {result['errors']}; serial p50 {p50:5.1f} ms "
                  f"p95 {p95:5.1f} ms (trivial p95 {trivial_p95:.1f} ms) {verdict if times == 10 else ''}".rstrip())


def main(only_search=False):
    started = time.monotonic()
    print_machine()
    sys.path.insert(0, str(ROOT))
    from deploy.cluster import Postgres, missing

    with tempfile.TemporaryDirectory(prefix="hb-bench-") as tmp:
        tmp = Path(tmp)
        tmp.chmod(0o755)  # the postgres user reaches its data directory inside
        databases = [("SQLite", f"sqlite:///{tmp / 'bench.sqlite3'}")]
        postgres = None
        if not any(name.startswith("postgresql") for name in missing()):
            postgres = Postgres(tmp)
            postgres.start()
            databases.append(("PostgreSQL", postgres.url))
        else:
            print("PostgreSQL: not measured, no /usr/lib/postgresql/*/bin on this machine\n")
        try:
            for i, (database, url) in enumerate([] if only_search else databases):
                env = child_env(tmp, url)
                prepare_site(env, static=i == 0)
                port = free_port()
                with open(tmp / f"gunicorn-{database}.log", "w+") as log:
                    server = start_server(env, port, log)
                    try:
                        if server is None:
                            log.seek(0)
                            print("gunicorn did not answer /healthz within 30 s; its log:\n" + log.read()[-3000:])
                            return 1
                        measure_throughput(port, database, server)
                        if i == 0:
                            measure_page_weight(port)
                            print()
                    finally:
                        if server is not None:
                            stop_server(server)
            measure_search(tmp, databases)
        finally:
            if postgres is not None:
                postgres.stop()
        if not only_search:
            measure_cluster(tmp)
            measure_glossary_linking(child_env(tmp, databases[0][1]))
    print(f"\nbench finished in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["search"]):
        sys.exit(f"usage: python -m tests.bench [search]  (got {' '.join(sys.argv[1:])!r})")
    sys.exit(main(only_search=sys.argv[1:] == ["search"]))
