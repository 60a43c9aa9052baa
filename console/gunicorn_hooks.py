"""gunicorn settings `manage.py serve` loads (`--config python:console.gunicorn_hooks`): a web worker dies with its
master, so a SIGKILLed master leaves no worker serving the port beside the one the supervisor starts next; each
request is remembered for its thread, so console.unread_body can close a connection whose body it will not read;
requests in progress are counted, and a dead worker's share of that count is dropped (core.metrics); underscored
x-cos-meta-* headers are carried to the application under their exact names, every other underscored header is
dropped (core.underscores)."""

from console.supervision import die_with_parent
from console.unread_body import remember_request
from core import metrics, underscores


def post_fork(server, worker) -> None:
    die_with_parent(server.pid)


def pre_request(worker, req) -> None:
    worker.log.debug("%s %s", req.method, req.path)
    req.headers = underscores.carry(req.headers)
    remember_request(req)
    metrics.IN_PROGRESS.inc()


def post_request(worker, req, environ, resp) -> None:
    metrics.IN_PROGRESS.dec()


def child_exit(server, worker) -> None:
    metrics.forget_process(worker.pid)
