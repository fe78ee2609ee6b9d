"""The notify service's HTTP app: health and OpenAPI for now; circulars and alerts arrive with issue 5."""
from flask import Flask

from shared.http import create_app as create_base_app

from ..bootstrap import Service


def create_app(service: Service) -> Flask:
    app, _api = create_base_app("zeroclear.notify", title="zeroclear notify")
    app.extensions["zeroclear.keys"] = service.keys
    return app
