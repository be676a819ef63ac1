"""Gunicorn settings for every way this project runs it: `make serve`, `make cluster`,
`make bench` and deploy/gunicorn.service. The address comes from the command line (-b)."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", 3))
# One line per request on stdout: time, client (and the address the proxy saw),
# request line, status, bytes and duration in milliseconds.
accesslog = "-"
access_log_format = '%(t)s %(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"
# On SIGTERM (systemctl stop) requests in flight get this long to finish.
graceful_timeout = 10
# No control socket: it defaults to one path per user, which two app servers on one
# host would fight over, and nothing here uses gunicornc.
control_socket_disable = True
