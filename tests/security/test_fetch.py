"""SSRF-safe fetching: only public addresses, pinned, every redirect checked, capped."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

from security.checks import find_raw_http_calls
from security.fetch import (
    BlockedAddress,
    ConnectionFailed,
    FetchTimeout,
    InvalidURL,
    ResolutionFailed,
    ResponseTooLarge,
    TooManyRedirects,
    address_allowed,
    fetch,
)
from tests.fakes.http import FakeHTTPServer, FakeRequest, FakeResponse


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    fake = FakeHTTPServer().start()
    port = fake.server.server_address[1]
    with override_settings(SPARK_FETCH_ALLOW_LOOPBACK_PORTS=[port]):
        yield fake
    fake.stop()


def _port(server: FakeHTTPServer) -> int:
    return int(server.server.server_address[1])


def resolving_to(*addresses: str):  # type: ignore[no-untyped-def]
    """A resolver that answers every name with ``addresses`` (and records the questions)."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(addresses)

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata (link-local)
        "100.100.100.200",  # Alibaba metadata (shared address space)
        "0.0.0.0",  # noqa: S104 - a target to refuse, not a bind address
        "224.0.0.1",  # multicast
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "::127.0.0.1",  # IPv4-compatible
    ],
)
def test_non_public_addresses_are_refused(ip: str) -> None:
    assert not address_allowed(ip, 80)


@pytest.mark.parametrize("ip", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(ip: str) -> None:
    assert address_allowed(ip, 443)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/",
        "http://[::ffff:7f00:1]/",
        "http://10.0.0.1/",
        "http://localhost:8000/",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_private_loopback_link_local_and_metadata_targets_are_refused(url: str) -> None:
    resolver = resolving_to("93.184.216.34")  # names would look public; literals are checked
    with pytest.raises(BlockedAddress) as refused:
        fetch(url, resolver=resolver)
    assert refused.value.code == "blocked_address"


def test_a_public_name_resolving_to_a_private_address_is_refused(server: FakeHTTPServer) -> None:
    resolver = resolving_to("10.0.0.7")
    with pytest.raises(BlockedAddress):
        fetch("http://images.example.com/cat.png", resolver=resolver)
    assert resolver.asked == ["images.example.com"]
    assert server.requests == []


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    with pytest.raises(BlockedAddress):
        fetch("http://mixed.example.com/", resolver=resolving_to("93.184.216.34", "127.0.0.1"))


def test_the_checked_address_is_the_one_connected_to_with_the_name_kept(
    server: FakeHTTPServer,
) -> None:
    server.route("GET", "/cat.png")(
        lambda r: FakeResponse(200, b"meow", {"Content-Type": "image/png"})
    )
    resolver = resolving_to("127.0.0.1")
    result = fetch(f"http://media.example.com:{_port(server)}/cat.png", resolver=resolver)
    assert (result.status_code, result.content, result.content_type) == (200, b"meow", "image/png")
    assert server.requests[0].headers["host"] == f"media.example.com:{_port(server)}"
    assert resolver.asked == ["media.example.com"]  # resolved once; no second lookup to rebind


def test_a_redirect_to_a_private_address_is_refused(server: FakeHTTPServer) -> None:
    server.route("GET", "/go")(
        lambda r: FakeResponse(302, headers={"Location": "http://169.254.169.254/latest/"})
    )
    with pytest.raises(BlockedAddress):
        fetch(f"http://127.0.0.1:{_port(server)}/go")
    assert [r.path for r in server.requests] == ["/go"]


def test_a_redirect_to_another_local_port_is_refused(server: FakeHTTPServer) -> None:
    server.route("GET", "/go")(
        lambda r: FakeResponse(302, headers={"Location": "http://127.0.0.1:1/admin"})
    )
    with pytest.raises(BlockedAddress):
        fetch(f"http://127.0.0.1:{_port(server)}/go")


def test_redirects_are_followed_up_to_the_cap(server: FakeHTTPServer) -> None:
    def hop_to(target: str) -> Callable[[FakeRequest], FakeResponse]:
        return lambda request: FakeResponse(302, headers={"Location": target})

    for hop in range(5):
        server.route("GET", f"/r{hop}")(hop_to(f"/r{hop + 1}"))
    server.route("GET", "/r5")(lambda r: FakeResponse(200, b"done"))
    base = f"http://127.0.0.1:{_port(server)}"
    assert fetch(f"{base}/r2", max_redirects=3).content == b"done"
    with pytest.raises(TooManyRedirects) as refused:
        fetch(f"{base}/r0", max_redirects=3)
    assert refused.value.code == "too_many_redirects"


def test_an_oversize_body_is_refused(server: FakeHTTPServer) -> None:
    server.route("GET", "/big")(lambda r: FakeResponse(200, b"x" * 5000))
    chunks = [b"y" * 1000] * 5
    server.route("GET", "/big-chunked")(lambda r: FakeResponse(200, stream=iter(chunks)))
    base = f"http://127.0.0.1:{_port(server)}"
    with pytest.raises(ResponseTooLarge) as declared:
        fetch(f"{base}/big", max_bytes=4096)
    assert declared.value.code == "too_large"
    with pytest.raises(ResponseTooLarge):
        fetch(f"{base}/big-chunked", max_bytes=4096)
    assert fetch(f"{base}/big", max_bytes=5000).content == b"x" * 5000


def test_a_slow_body_is_cut_off_at_the_deadline(server: FakeHTTPServer) -> None:
    stop = threading.Event()

    def drip() -> Iterator[bytes]:
        while not stop.is_set():
            yield b"."
            stop.wait(0.05)  # the fake server's pace: one byte every 50 ms, forever

    server.route("GET", "/slow")(lambda r: FakeResponse(200, stream=drip()))
    try:
        with pytest.raises(FetchTimeout) as refused:
            fetch(f"http://127.0.0.1:{_port(server)}/slow", timeout=0.5)
        assert refused.value.code == "timeout"
    finally:
        stop.set()


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/x", "http:///x"]
)
def test_other_schemes_and_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidURL):
        fetch(url, resolver=resolving_to("93.184.216.34"))


def test_credentials_in_urls_are_refused() -> None:
    with pytest.raises(InvalidURL):
        fetch("http://user:pass@example.com/", resolver=resolving_to("93.184.216.34"))


def test_unresolvable_names_give_a_typed_error() -> None:
    def fails(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(ResolutionFailed) as refused:
        fetch("http://nowhere.invalid/", resolver=fails)
    assert refused.value.code == "resolution_failed"


def test_a_refused_connection_gives_a_typed_error(server: FakeHTTPServer) -> None:
    port = _port(server)
    server.stop()
    with pytest.raises(ConnectionFailed):
        fetch(f"http://127.0.0.1:{port}/")


def test_loopback_stays_closed_without_the_test_allowance() -> None:
    assert settings.SPARK_FETCH_ALLOW_LOOPBACK_PORTS == []
    assert not address_allowed("127.0.0.1", 8000)


def test_app_code_makes_no_raw_http_calls() -> None:
    assert find_raw_http_calls(Path(settings.BASE_DIR)) == []


def test_the_check_finds_a_raw_http_call(tmp_path: Path) -> None:
    (tmp_path / "chat").mkdir()
    (tmp_path / "chat" / "previews.py").write_text(
        "import httpx\n\ndef preview(url):\n    return httpx.get(url).text\n"
    )
    (tmp_path / "chat" / "integrations").mkdir()
    (tmp_path / "chat" / "integrations" / "vendor.py").write_text("import requests\n")
    assert find_raw_http_calls(tmp_path, packages=["chat"]) == [("chat/previews.py", 4)]


def test_https_to_the_pinned_address_keeps_sni_and_checks_the_name(tmp_path: Path) -> None:
    from tests.fakes.tls import LocalCA

    ca = LocalCA.create()
    server = FakeHTTPServer()
    ca.serve_https(server, "media.example.com", tmp_path)
    server.route("GET", "/cat.png")(lambda r: FakeResponse(200, b"secure meow"))
    server.start()
    port = _port(server)
    try:
        with override_settings(SPARK_FETCH_ALLOW_LOOPBACK_PORTS=[port]):
            result = fetch(
                f"https://media.example.com:{port}/cat.png",
                resolver=resolving_to("127.0.0.1"),
                verify=ca.client_context(),
            )
            assert result.content == b"secure meow"
            assert server.requests[0].headers["host"] == f"media.example.com:{port}"
            # The certificate is checked against the name asked for, not the address.
            with pytest.raises(ConnectionFailed):
                fetch(
                    f"https://other.example.com:{port}/cat.png",
                    resolver=resolving_to("127.0.0.1"),
                    verify=ca.client_context(),
                )
            assert len(server.requests) == 1
    finally:
        server.stop()
