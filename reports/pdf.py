"""HTML to PDF with WeasyPrint, locked down: nothing is fetched but the report assets.

Every resource WeasyPrint asks for (the HTML's stylesheets, fonts, images,
``<link rel="attachment">`` files, SVG references) goes through
:class:`AssetFetcher`, which serves ``data:`` URLs and regular files under
``reports/assets`` and refuses everything else: other files, ``..`` escapes,
symbolic links pointing out of the folder, HTTP(S) and any other scheme. User
text is escaped by the templates anyway; the fetcher is the second wall.
"""

from __future__ import annotations

import mimetypes
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint import HTML, Attachment
from weasyprint.urls import UNICODE_SCHEME_RE, URLFetcher, URLFetcherResponse

# Not imported from the package's __init__: a stale editable install may load
# ``reports`` as a namespace package, which never runs it.
ASSETS_DIR = Path(__file__).resolve().parent / "assets"

__all__ = ["ARCHIVE_VARIANT", "AssetFetcher", "PdfMetadata", "URLRefused", "render_pdf"]

# PDF/A-3u: the archive copy of an issued report, with its figures attached as CSV
# (reports.archive); PDF/A-3 is the part that allows embedded files of any type.
ARCHIVE_VARIANT = "pdf/a-3u"
VARIANTS = (None, ARCHIVE_VARIANT)

# Types WeasyPrint cares about; mimetypes may not know fonts on a bare system.
CONTENT_TYPES = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


class URLRefused(ValueError):
    """The report fetcher does not serve this URL."""


class AssetFetcher(URLFetcher):
    """A WeasyPrint URL fetcher serving only ``data:`` URLs and files under the assets folder.

    Refused URLs raise :class:`URLRefused` (WeasyPrint logs it and leaves the
    resource out) and are remembered in :attr:`refused`, so tests and callers
    can see that something tried.
    """

    def __init__(self, root: Path = ASSETS_DIR) -> None:
        # Only data: may ever reach urllib (see fetch); no redirects, short timeout.
        super().__init__(allowed_protocols=("data",), allow_redirects=False, timeout=1)
        self.root = Path(os.path.realpath(root))
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Serve a data: URL or an asset file; refuse anything else."""
        match = UNICODE_SCHEME_RE.match(url)
        scheme = match[1].lower() if match else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = self._asset_path(url)
            if path is not None:
                content_type = CONTENT_TYPES.get(path.suffix.lower()) or (
                    mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                )
                return URLFetcherResponse(
                    path.as_uri(), path.read_bytes(), {"Content-Type": content_type}
                )
        self.refused.append(url)
        raise URLRefused(f"Reports may only use their own assets, not {url[:200]!r}")

    def _asset_path(self, url: str) -> Path | None:
        """The real path of an existing regular file under the root, else None."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        raw = unquote(parts.path)
        # Refuse any '..' outright rather than trusting normalisation.
        if ".." in PurePosixPath(raw).parts or "\x00" in raw:
            return None
        try:
            path = Path(os.path.realpath(url2pathname(raw), strict=True))
        except (OSError, ValueError):
            return None
        # realpath follows symbolic links: a link out of the folder lands outside it.
        if not path.is_relative_to(self.root) or not path.is_file():
            return None
        return path


@dataclass(frozen=True)
class PdfMetadata:
    """Document information written into the PDF, whatever the HTML says."""

    title: str
    author: str
    subject: str
    keywords: Sequence[str] = ()
    lang: str = "en"
    created: datetime | None = None
    generator: str = "grantpath"


def render_pdf(
    html: str,
    *,
    base_url: Path | str = ASSETS_DIR,
    variant: str | None = None,
    metadata: PdfMetadata | None = None,
    fetcher: AssetFetcher | None = None,
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """Lay out report HTML and return the PDF bytes, fetching only report assets.

    Relative URLs in the HTML (``print.css``, ``fonts/...``) resolve against
    ``base_url``, the assets folder. ``variant`` is None or ``"pdf/a-3u"``
    (the archive copy). ``metadata``, when given, overrides the document
    information WeasyPrint read from the HTML's ``<title>`` and ``<meta>``.
    ``attachments`` are embedded files built from bytes or strings
    (``reports.archive``), never from URLs.
    """
    if variant not in VARIANTS:
        raise ValueError(f"Unknown PDF variant {variant!r}")
    fetcher = fetcher or AssetFetcher()
    base = Path(base_url).resolve().as_uri() + "/" if isinstance(base_url, Path) else base_url
    # The fetcher is given to HTML(); WeasyPrint passes the document's fetcher
    # on to every stylesheet, font, image and attachment it loads from it.
    document = HTML(string=html, base_url=base, url_fetcher=fetcher).render(
        pdf_variant=variant, pdf_tags=variant is not None
    )
    if metadata is not None:
        info = document.metadata
        info.title = metadata.title
        info.authors = [metadata.author]
        info.description = metadata.subject
        info.keywords = list(metadata.keywords)
        info.lang = metadata.lang
        info.generator = metadata.generator
        if metadata.created is not None:
            stamp = metadata.created.isoformat(timespec="seconds")
            info.created = stamp
            info.modified = stamp
    with warnings.catch_warnings():
        # For PDF/A, WeasyPrint 70 reads its bundled sRGB profile (the output intent)
        # from a file it never closes; the file is dropped, unclosed, inside this call.
        warnings.filterwarnings(
            "ignore", message=r"unclosed file .*sRGB2014\.icc", category=ResourceWarning
        )
        return document.write_pdf(  # type: ignore[no-any-return]
            pdf_variant=variant,
            pdf_tags=variant is not None,
            attachments=list(attachments),
            finisher=_one_entry_per_associated_file,
        )


def _one_entry_per_associated_file(document: object, pdf: object) -> None:
    """Keep each embedded file once in the catalog's /AF array.

    WeasyPrint 70's PDF/A-3 step lists every attachment twice there (once from
    the EmbeddedFiles name tree, once from its file specification).
    """
    catalog = pdf.catalog  # type: ignore[attr-defined]
    associated = catalog.get("AF")
    if associated:
        unique = list(dict.fromkeys(associated))
        associated.clear()
        associated.extend(unique)
