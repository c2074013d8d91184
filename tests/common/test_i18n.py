"""English and Spanish from day one: every string translated, the switcher works."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.test import Client

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_spanish_message_is_translated_and_compiled(domain: str) -> None:
    po = polib.pofile(str(LOCALE / f"es/LC_MESSAGES/{domain}.po"))
    untranslated = [e.msgid for e in po if not e.translated() and not e.obsolete]
    assert untranslated == []
    assert len(po) > 10  # the catalogue really was extracted
    mo = polib.mofile(str(LOCALE / f"es/LC_MESSAGES/{domain}.mo"))
    compiled = {e.msgid: e.msgstr for e in mo}
    stale = [e.msgid for e in po.translated_entries() if compiled.get(e.msgid) != e.msgstr]
    assert stale == [], "run `make messages` to compile locale/es"


@pytest.mark.django_db
def test_pages_follow_the_browser_language(client: Client) -> None:
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="es")
    assert '<html lang="es"' in response.content.decode()
    assert "Todos los modelos" in response.content.decode()


@pytest.mark.django_db
def test_language_switcher_changes_the_language(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert response.status_code == 302
    assert "Todos los modelos" in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Every model" in client.get("/").content.decode()
