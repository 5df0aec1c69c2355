"""Two applications in one process (as tests and workers make) both serve, each API
family answering errors in its own envelope."""

from __future__ import annotations

from contextlib import closing

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
