"""axe-core, fetched once from npm (pinned by version and integrity, cached outside the repository), run on a page
by the browser tests. Only serious and critical violations count: those are the ones the console must never have."""

import base64
import hashlib
import io
import os
import tarfile
import urllib.request
from functools import cache
from pathlib import Path

from playwright.sync_api import Error, Page

VERSION = "4.14.1"
TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kinko-tests" / f"axe-{VERSION}.min.js"
BLOCKING = ("serious", "critical")


@cache
def source() -> str:
    if not CACHE.exists():
        with urllib.request.urlopen(TARBALL, timeout=60) as response:
            tarball = response.read()
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
        assert digest == INTEGRITY, f"axe-core {VERSION} from npm does not match its pinned integrity"
        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            script = archive.extractfile("package/axe.min.js").read()
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        partial = CACHE.with_suffix(".partial")
        partial.write_bytes(script)
        partial.replace(CACHE)
    return CACHE.read_text()


def violations(page: Page) -> list[str]:
    """The page's serious and critical axe violations, one line each (rule, impact, first offending elements).
    axe is evaluated through the DevTools protocol, so the console's CSP does not have to admit it."""
    try:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(source() + "\n;undefined")
        found = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
        )
    except Error as error:
        if any(sign in str(error).lower() for sign in ("execution context was destroyed", "navigation", "been closed")):
            return []  # the page navigated on (or closed) mid-run; the next page is checked when it loads
        raise
    return [
        f"axe {v['impact']} {v['id']} ({v['help']}) at {page.url}: {', '.join(v['nodes'])}"
        for v in found
        if v["impact"] in BLOCKING
    ]
