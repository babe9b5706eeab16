import json
import socket

import pytest
import requests

from shared.identity.cert_server import CERTS_PATH, CertificateServer

CERTS = {"kid-1": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}


def test_serves_the_certificates_as_json_with_a_cache_lifetime():
    with CertificateServer(CERTS, max_age_s=120) as server:
        response = requests.get(server.url, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert "max-age=120" in response.headers["Cache-Control"]
    assert json.loads(response.content) == CERTS


def test_listens_only_on_loopback_at_googles_path():
    with CertificateServer(CERTS) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.url.endswith(CERTS_PATH)
        base = server.url.removesuffix(CERTS_PATH)
        assert requests.get(base + "/other", timeout=5).status_code == 404


def test_starts_on_first_use_of_the_url_and_frees_the_port_on_close():
    server = CertificateServer(CERTS)
    port = int(server.url.split(":")[2].split("/")[0])
    assert server.url == server.url  # one server, however often the URL is read
    server.close()
    server.close()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        pass
