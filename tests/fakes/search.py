"""A fake of a SearXNG-style search API (``GET /search?q=...&format=json``)."""

from __future__ import annotations

from typing import Any

from tests.fakes.http import FakeHTTPServer, FakeRequest, FakeResponse


class FakeSearch:
    def __init__(self) -> None:
        self.server = FakeHTTPServer()
        self.results: list[dict[str, Any]] = [
            {
                "title": "Cats — Wikipedia",
                "url": "https://en.wikipedia.org/wiki/Cat",
                "content": "The cat is a small domesticated carnivorous mammal.",
            },
            {
                "title": "Cat care",
                "url": "https://example.org/cat-care",
                "content": "How to look after a cat.",
            },
        ]
        self.status = 200
        self.server.routes[("GET", "/search")] = self.search

    @property
    def url(self) -> str:
        return f"{self.server.base_url}/search"

    def search(self, request: FakeRequest) -> FakeResponse:
        if self.status != 200:
            return FakeResponse(self.status, {"error": "unavailable"})
        if request.query.get("format") != "json" or not request.query.get("q"):
            return FakeResponse(400, {"error": "bad query"})
        return FakeResponse(200, {"query": request.query["q"], "results": self.results})

    def start(self) -> FakeSearch:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
