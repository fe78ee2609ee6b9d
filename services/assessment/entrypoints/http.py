"""The assessment service's HTTP app: health and OpenAPI for now; scoring arrives with issue 4."""
from flask import Flask

from shared.http import create_app as create_base_app

from ..bootstrap import Service


def create_app(service: Service) -> Flask:
    app, _api = create_base_app("zeroclear.assessment", title="zeroclear assessment")
    app.extensions["zeroclear.keys"] = service.keys
    return app
