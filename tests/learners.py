"""Simulated learners for load, soak and fault tests: real HTTP against a live server."""

import http.client
import http.cookiejar
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

FIELD = {name: re.compile(rf'name="{name}" value="(\d+)"') for name in ("attempt", "question", "choice")}


class Learner:
    def __init__(self, base, context=None):
        """context: an ssl.SSLContext for https (the cluster's self-signed certificate)."""
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.jar)]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)

    def get(self, path):
        with self.opener.open(self.base + path, timeout=30) as r:
            return r.status, r.read().decode()

    def post(self, path, data, headers=None):
        token = next(c.value for c in self.jar if c.name == "csrftoken")
        body = urllib.parse.urlencode(data, doseq=True).encode()
        # Origin, as a browser sends it: over https Django's CSRF check needs it (or a Referer).
        request = urllib.request.Request(self.base + path, data=body, headers={"X-CSRFToken": token, "Origin": self.base, **(headers or {})})
        with self.opener.open(request, timeout=30) as r:
            return r.status, r.read().decode()

    def answer_next(self, quiz):
        """Answer the next question; start a (re)take when there is none. Returns (attempt, question) or None."""
        _, page = self.get(quiz)
        if 'name="question"' not in page:
            self.post(quiz + "start/", {})
            return None
        data = {name: pattern.search(page).group(1) for name, pattern in FIELD.items()}
        status, _ = self.post(quiz + "answer/", data)
        return (int(data["attempt"]), int(data["question"])) if status == 200 else None


class Run:
    """Learners answering in threads for a fixed time; records what the server acknowledged."""

    def __init__(self, base, quiz, learners=8, seconds=5.0, context=None):
        self.base, self.quiz, self.learners, self.seconds, self.context = base, quiz, learners, seconds, context
        self.acknowledged, self.server_errors, self.connection_errors = [], [], []
        self.lock = threading.Condition()

    def _learner(self):
        learner = None
        while time.monotonic() < self.deadline:
            try:
                if learner is None:
                    learner = Learner(self.base, self.context)
                    learner.get(self.quiz)
                done = learner.answer_next(self.quiz)
                if done:
                    with self.lock:
                        self.acknowledged.append(done)
                        self.lock.notify_all()
            except urllib.error.HTTPError as exc:
                with self.lock:
                    (self.server_errors if exc.code >= 500 else self.connection_errors).append(f"{exc.code} {exc.url}")
            except (urllib.error.URLError, ConnectionError, http.client.HTTPException, TimeoutError) as exc:
                with self.lock:
                    self.connection_errors.append(repr(exc))
                time.sleep(0.05)

    def start(self):
        self.deadline = time.monotonic() + self.seconds
        self.threads = [threading.Thread(target=self._learner) for _ in range(self.learners)]
        for t in self.threads:
            t.start()
        return self

    def wait_for_answers(self, count, timeout):
        """Block until count answers were acknowledged (or timeout s); returns whether they were."""
        with self.lock:
            return self.lock.wait_for(lambda: len(self.acknowledged) >= count, timeout)

    def stop(self):
        """End the run early: learners finish the request they are in and stop."""
        self.deadline = time.monotonic()
        return self

    def join(self):
        for t in self.threads:
            t.join(timeout=self.seconds + 60)
        return self
