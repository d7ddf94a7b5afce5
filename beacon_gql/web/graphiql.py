"""GraphiQL served from the app itself.

strawberry's page loads its scripts from a public CDN, which air-gapped machines cannot
reach. The same files are vendored under static/vendor/ (from the npm registry, unmodified,
so the page's own subresource-integrity hashes still check them); only the host changes.
"""

from __future__ import annotations

import re

_CDN = re.compile(r"https://unpkg\.com/")


def offline_graphiql(html: str, static_prefix: str = "/static/vendor/") -> str:
    page = _CDN.sub(static_prefix, html)
    if "unpkg.com" in page:
        raise RuntimeError("GraphiQL page still references the CDN")
    return page
