"""``/docs``: Swagger UI from the pinned ``flask-swagger-ui`` wheel, served by Intake itself,
so the page works offline and loads nothing from a CDN."""

from __future__ import annotations

import re
from importlib.metadata import version


def test_docs_as_the_readme_names_it_leads_to_the_page(client):
    response = client.get("/docs")
    assert response.status_code in (301, 308)
    assert response.headers["Location"].endswith("/docs/")
    page = client.get("/docs/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert '"url": "/openapi.json"' in page.get_data(as_text=True)


def test_every_script_and_stylesheet_of_the_page_is_served_by_intake(client):
    html = client.get("/docs/").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert asset.startswith("/docs/"), asset  # same origin: no CDN, nothing to fetch
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.data) > 0
    assert "cdn." not in html and "unpkg" not in html


def test_the_page_is_the_pinned_swagger_ui_release(client):
    html = client.get("/docs/").get_data(as_text=True)
    assert f'<meta name="version" content="{version("flask-swagger-ui")}">' in html
    assert version("flask-swagger-ui") == "5.34.0"


def test_the_former_cdn_pages_lead_to_the_packaged_page(client):
    for page in ("swagger", "redoc", "scalar"):
        response = client.get(f"/docs/{page}/")
        assert response.status_code == 308
        assert response.headers["Location"] == "/docs/"


def test_the_docs_assets_do_not_serve_files_outside_their_folder(client):
    assert client.get("/docs/../../pyproject.toml").status_code == 404
    assert client.get("/docs/%2e%2e/__init__.py").status_code == 404
