"""Great Expectations Data Docs that open from the file with no network: the site config and the offline pass.

GX 1.x page templates load jQuery, Bootstrap, bootstrap-table, Font Awesome, ... from CDNs (and its logo from
S3); offline the pages render unstyled with empty suite and result lists, because those lists are drawn by
bootstrap-table from JSON in the page. The templates cannot be overridden (GX puts its own template loader
before a custom views directory), so after each build the pages GX wrote are rewritten to load the copies
vendored in data_docs_static/ (see LICENSES.md there), copied to the site's static/vendor/. A CDN file with no
local copy (Vega, used only by profiling pages; a dark theme) is dropped.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

VENDOR_DIR = Path(__file__).with_name("data_docs_static")

# The last path segment of each CDN URL GX 1.x uses -> the file under the site's static/ that replaces it.
_LOCAL = {
    "jquery-3.7.1.min.js": "vendor/jquery.min.js",
    "popper.min.js": "vendor/popper.min.js",
    "bootstrap.min.css": "vendor/bootstrap.min.css",
    "bootstrap.min.js": "vendor/bootstrap.min.js",
    "bootstrap-table.min.css": "vendor/bootstrap-table.min.css",
    "bootstrap-table.min.js": "vendor/bootstrap-table.min.js",
    "bootstrap-table-filter-control.css": "vendor/bootstrap-table-filter-control.min.css",
    "bootstrap-table-filter-control.min.css": "vendor/bootstrap-table-filter-control.min.css",
    "bootstrap-table-filter-control.min.js": "vendor/bootstrap-table-filter-control.min.js",
    "bootstrap-datepicker.min.css": "vendor/bootstrap-datepicker.min.css",
    "bootstrap-datepicker.min.js": "vendor/bootstrap-datepicker.min.js",
    "all.min.css": "vendor/fontawesome/css/fontawesome-solid-regular.min.css",
    # GX ships its logo in its own static files (copied to static/images/ by every build).
    "logo-long.png": "images/logo-long.png",
    "full_logo_dark.png": "images/logo-long.png",
}
_TAG = re.compile(r"<(script|link|img)\b[^>]*?\b(?:src|href)=\"(?:https?:)?//[^\"]*\"[^>]*>(?:\s*</script>)?", re.S)
_CSS_URL = re.compile(r"url\(['\"]?((?:https?:)?//[^'\")]+)['\"]?\)")
_URL = re.compile(r"\b(src|href)=\"((?:https?:)?//[^\"]*)\"")
# A link into the site's own static/ (GX's favicon link on result pages is one folder short).
_STATIC = re.compile(r"\b(src|href)=\"(?:\./|\.\./)*static/([^\"]+)\"")


def site_config(docs_dir: Path) -> dict[str, Any]:
    """The `northstar` Data Docs site: a folder of static pages, without GX's "how to" buttons."""
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }


def _local(url: str) -> str | None:
    return _LOCAL.get(url.split("?")[0].rstrip("/").rsplit("/", 1)[-1])


def offline_page(html: str, static_prefix: str) -> str:
    """The page with every CDN asset replaced by its local copy (static_prefix: the page's path to static/)."""

    def tag(match: re.Match[str]) -> str:
        url = _URL.search(match.group(0)).group(2)
        local = _local(url)
        if local is None:
            return ""
        text = match.group(0).replace(url, static_prefix + local)
        # Subresource integrity and CORS mode make file:// loads fail; the files are ours now.
        return re.sub(r'\s(integrity|crossorigin)="[^"]*"', "", text)

    def css_url(match: re.Match[str]) -> str:
        local = _local(match.group(1))
        return f"url('{static_prefix + local}')" if local else "none"

    html = _STATIC.sub(lambda m: f'{m.group(1)}="{static_prefix}{m.group(2)}"', html)
    return _CSS_URL.sub(css_url, _TAG.sub(tag, html))


def make_offline(docs_dir: Path, since: float) -> int:
    """Copy the vendored assets into the site and rewrite the pages written since `since` (a time.time()).

    Returns how many pages were rewritten. Idempotent: a rewritten page has no CDN URL left.
    """
    shutil.copytree(VENDOR_DIR, docs_dir / "static" / "vendor", dirs_exist_ok=True)  # licenses included
    rewritten = 0
    for page in docs_dir.rglob("*.html"):
        if page.stat().st_mtime < since:
            continue
        html = page.read_text(encoding="utf-8")
        prefix = Path(os.path.relpath(docs_dir / "static", page.parent)).as_posix() + "/"
        new = offline_page(html, prefix)
        if new != html:
            page.write_text(new, encoding="utf-8")
            rewritten += 1
    return rewritten
