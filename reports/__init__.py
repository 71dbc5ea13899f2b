"""Report building: plain data from read queries, Jinja templates, WeasyPrint PDFs.

Templates live in ``reports/templates`` and assets (fonts, CSS) in
``reports/assets``; the URL fetcher will allow nothing outside the assets.
"""

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
