"""Two applications in one process (as tests and workers make) both serve, each API
family answering errors in its own envelope, and share no blueprint: every blueprint is
built by ``create_app``, none lives in a module."""

from __future__ import annotations

import importlib
import pkgutil
from contextlib import closing

from flask import Blueprint

import web
from web import create_app


def test_two_apps_in_one_process_both_serve_with_their_error_envelopes(settings, org):
    first, second = create_app(settings), create_app(settings)
    with closing(first.extensions["intake_pool"]), closing(second.extensions["intake_pool"]):
        for app, subject in ((first, "newsletter"), (second, "digest")):
            client = app.test_client()
            native = {"json": {"subject": subject}, "headers": org.headers}
            assert client.post("/api/ignored-subjects", **native).status_code == 201
            again = client.post("/api/ignored-subjects", **native)
            assert again.status_code == 409 and again.json["success"] is False

            admin = {"Authorization": f"Bearer {org.key.token}"}
            family = client.post(
                "/api/v1/mail/subjects/create", json={"subject": subject}, headers=admin
            )
            assert family.status_code == 409
            assert family.json["errors"] == {"subject": [family.json["message"]]}


def test_two_apps_in_one_process_share_no_blueprint_object(settings):
    first, second = create_app(settings), create_app(settings)
    with closing(first.extensions["intake_pool"]), closing(second.extensions["intake_pool"]):
        assert first.blueprints.keys() == second.blueprints.keys()
        assert {"emails", "hooks_inbound", "message_api", "health"} <= first.blueprints.keys()
        for name, blueprint in first.blueprints.items():
            assert blueprint is not second.blueprints[name], name


def test_no_web_module_holds_a_blueprint_of_its_own():
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(web.__path__, prefix="web.")
    ]
    assert len(modules) > 20
    held = [
        f"{module.__name__}.{name}"
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, Blueprint)
    ]
    assert held == []
