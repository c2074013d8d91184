"""The request filter never refuses what Spark serves: every URL pattern, every static
file, uploaded files, and landing-page assets (served on *.pages.localhost).

Each request comes from its own new address, so a refusal here can only be a rule (or the
exemption list) refusing a legitimate request on first contact.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.urls import Resolver404, get_resolver, resolve
from django.utils.regex_helper import normalize

from security.services import storage_key_new
from security.uploads import ACCEPTED_SIGNATURES
from tests.security.filter_helpers import FirstContact

pytestmark = pytest.mark.django_db

# Values tried for each URL parameter, until the URL resolves to its own pattern.
SAMPLE_VALUES = [
    "7b0c9a7e-1f1e-4b8a-9a57-2c1d3e4f5a6b",
    "12",
    "interview-coach",
    "accounts",
    "MQ:1tQx5a:abcDEF123",
    "en",
    "avatars/ab/cd/7b0c9a7e1f1e4b8a9a572c1d3e4f5a6b.png",
]
LANDING_HOST = "interview-coach.pages.localhost"
# What a landing page built by a site builder or by hand serves (beside its static files).
LANDING_ASSETS = [
    "/",
    "/index.html",
    "/pricing",
    "/pricing/",
    "/about.html",
    "/thank-you/",
    "/assets/index-4f3a9c.js",
    "/assets/index-4f3a9c.css",
    "/assets/app.min.js.map",
    "/css/style.css",
    "/css/style.min.css?v=3",
    "/js/main.js",
    "/js/vendor/jquery-3.7.1.min.js",
    "/scripts/analytics.js",
    "/lib/bootstrap/bootstrap.bundle.min.js",
    "/vendor/swiper/swiper-bundle.min.css",
    "/img/hero.webp",
    "/img/hero@2x.png",
    "/images/logo.svg",
    "/images/team/jane-doe.jpg",
    "/media/intro.mp4",
    "/media/intro.webm",
    "/media/podcast-episode-1.mp3",
    "/fonts/inter-var.woff2",
    "/fonts/Inter-Regular.woff",
    "/fonts/icons.ttf",
    "/fonts/icons.eot",
    "/downloads/brochure.pdf",
    "/data/testimonials.json",
    "/manifest.json",
    "/site.webmanifest",
    "/browserconfig.xml",
    "/sitemap.xml",
    "/feed.xml",
    "/rss.xml",
    "/robots.txt",
    "/ads.txt",
    "/humans.txt",
    "/llms.txt",
    "/favicon.ico",
    "/favicon-32x32.png",
    "/apple-touch-icon.png",
    "/android-chrome-192x192.png",
    "/mstile-150x150.png",
    "/safari-pinned-tab.svg",
    "/og-image.jpg",
    "/.well-known/security.txt",
    "/.well-known/acme-challenge/Xa3kL9_q-2",
    "/.well-known/apple-app-site-association",
    "/.well-known/assetlinks.json",
    "/.well-known/change-password",
    "/sw.js",
    "/service-worker.js",
    "/workbox-3f2a.js",
    "/?utm_source=newsletter&utm_medium=email&utm_campaign=launch",
    "/?ref=producthunt",
    "/#pricing",
]


def _leaf_patterns(patterns: Iterable[Any], prefix: str = "") -> Iterator[str]:
    """The full regex of every URL pattern Spark serves, includes followed."""
    for entry in patterns:
        regex = entry.pattern.regex.pattern.removeprefix("^").removesuffix(r"\Z")
        regex = regex.removesuffix("$")
        if hasattr(entry, "url_patterns"):
            yield from _leaf_patterns(entry.url_patterns, prefix + regex)
        else:
            yield prefix + regex


def _example_url(regex: str) -> str | None:
    """A URL that resolves through this pattern, built from Django's own reverse helper."""
    for template, params in normalize(regex):
        for value in SAMPLE_VALUES:
            url = "/" + template % dict.fromkeys(params, value)
            try:
                resolve(url)
            except Resolver404:
                continue
            return url
    return None


def spark_urls() -> list[str]:
    examples = (_example_url(regex) for regex in _leaf_patterns(get_resolver().url_patterns))
    return [url for url in examples if url is not None]


def static_files() -> list[str]:
    """Every file served under STATIC_URL (Spark's static/ and every app's), hidden included."""
    found = []
    for finder in finders.get_finders():
        for path, _storage in finder.list(ignore_patterns=[]):
            found.append(path.replace("\\", "/"))
    return sorted(set(found))


def test_every_url_pattern_gets_an_example_url() -> None:
    patterns = list(_leaf_patterns(get_resolver().url_patterns))
    urls = spark_urls()
    assert len(patterns) > 300
    assert len(urls) == len(patterns), "a pattern has no sample value: extend SAMPLE_VALUES"


def test_no_url_spark_serves_is_refused() -> None:
    contact = FirstContact()
    assert [url for url in spark_urls() if contact.refused(url)] == []


def test_no_static_file_is_refused() -> None:
    files = static_files()
    assert "css/spark.css" in files or any(name.endswith(".css") for name in files)
    contact = FirstContact()
    assert [name for name in files if contact.refused(f"/static/{name}")] == []


def test_static_files_served_as_landing_page_assets_at_the_root_are_not_refused() -> None:
    # Given every static asset's path, as a landing page would serve the same files
    # at its own root (hidden build stamps are not web assets)
    files = [name for name in static_files() if not any(p.startswith(".") for p in name.split("/"))]
    contact = FirstContact()
    refused = [name for name in files if contact.refused(f"/{name}", host=LANDING_HOST)]
    assert refused == []


def test_no_landing_page_asset_is_refused() -> None:
    contact = FirstContact()
    assert [url for url in LANDING_ASSETS if contact.refused(url, host=LANDING_HOST)] == []


def test_no_uploaded_file_url_is_refused() -> None:
    extensions = sorted({extension for *_rest, extension in ACCEPTED_SIGNATURES} | {"txt"})
    contact = FirstContact()
    urls = [f"/media/{storage_key_new(extension)}" for extension in extensions]
    urls += ["/media/avatars/7b0c9a7e1f1e4b8a9a572c1d3e4f5a6b.jpg"]
    assert [url for url in urls if contact.refused(url)] == []
