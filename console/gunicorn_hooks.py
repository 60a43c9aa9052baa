"""gunicorn settings `manage.py serve` loads (`--config python:console.gunicorn_hooks`): a web worker dies with its
master, so a SIGKILLed master leaves no worker serving the port beside the one the supervisor starts next."""

from console.supervision import die_with_parent


def post_fork(server, worker) -> None:
    die_with_parent(server.pid)
