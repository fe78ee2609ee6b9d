"""Each service's API reference in the browser: ``/docs`` (Swagger UI from the swagger-ui-bundle
package, nothing fetched from the internet) and ``/`` pointing to it and to the OpenAPI document.

The pages carry a strict Content-Security-Policy like the portal's: no inline script or style, every
file from this origin (the page's start-up script is ``START``, served as a file)."""
from __future__ import annotations

from html import escape
from flask import Flask, abort, current_app, jsonify, request, send_from_directory

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SWAGGER_FILES = {"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png"}
START = """// Swagger UI on this service's own OpenAPI document: a file, not inline script (CSP script-src 'self').
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({url: root.getAttribute("data-openapi"), dom_id: "#swagger-ui", deepLinking: true,
                               presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout", validatorUrl: null});
});
"""
LINKS = {"docs": "/docs", "openapi": "/openapi.json", "live": "/health/live", "ready": "/health/ready"}


def _swagger_dir() -> str:
    import swagger_ui_bundle

    return swagger_ui_bundle.swagger_ui_path


def register_docs(app: Flask, title: str) -> None:
    """``/``, ``/docs`` and its files; a service adds links in ``app.config["ZEROCLEAR_DOC_LINKS"]``."""

    @app.get("/")
    def index():
        """Where to start: the API reference and the machine-readable documents (HTML to a browser)."""
        links = {**LINKS, **app.config.get("ZEROCLEAR_DOC_LINKS", {})}
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            items = "".join(f'<li><a href="{escape(url)}">{escape(name)}</a> <code>{escape(url)}</code></li>'
                            for name, url in links.items())
            return _page(f"<h1>{escape(title)}</h1><ul>{items}</ul>", title)
        return jsonify(service=title, links=links)

    @app.get("/docs")
    def docs():
        body = (f'<div id="swagger-ui" data-openapi="{LINKS["openapi"]}"></div>'
                '<script src="/docs/static/swagger-ui-bundle.js"></script>'
                '<script src="/docs/static/docs.js"></script>')
        return _page(body, f"{title} — API", head='<link rel="stylesheet" href="/docs/static/swagger-ui.css">')

    @app.get("/docs/static/<name>")
    def docs_static(name: str):
        if name in SWAGGER_FILES:
            response = send_from_directory(_swagger_dir(), name, max_age=3600)
        elif name == "docs.js":
            response = current_app.response_class(START, mimetype="text/javascript")
        else:
            abort(404)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _page(body: str, title: str, head: str = ""):
    html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>{head}'
            f"</head><body>{body}</body></html>")
    response = current_app.response_class(html, mimetype="text/html")
    response.headers.update({"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                             "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"})
    return response
