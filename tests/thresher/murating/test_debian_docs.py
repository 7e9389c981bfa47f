"""Debian documentation pages as parallel units: folders written here, and the real pages."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from thresher.config import Settings
from thresher.entrypoint import BadInput
from thresher.murating.debian_docs import locale_language, read_debian
from thresher.murating.parallel import load_parallel, parallel_documents

REPO = Path(__file__).resolve().parents[3]
HANDBOOK = "debian-handbook/usr/share/doc/debian-handbook/html"
GNOME = "gnome-user-docs/usr/share/help"

EN = [
    "Managing packages",
    "Every program on a Debian system is installed from a package, an archive that holds the "
    "files of the program together with a description of what it needs from the rest of the "
    "system. The package manager reads these descriptions before anything is installed.",
    "When a package depends on a library that is missing, the package manager downloads the "
    "library first and installs the program only after all of its dependencies are in place. "
    "Removing a package leaves its configuration files behind unless you ask for a purge.",
]
DE = [
    "Pakete verwalten",
    "Jedes Programm auf einem Debian-System wird aus einem Paket installiert, einem Archiv, "
    "das die Dateien des Programms zusammen mit einer Beschreibung dessen enthält, was es vom "
    "übrigen System benötigt. Die Paketverwaltung liest diese Beschreibungen vor jeder "
    "Installation.",
    "Wenn ein Paket von einer fehlenden Bibliothek abhängt, lädt die Paketverwaltung zuerst "
    "die Bibliothek herunter und installiert das Programm erst, wenn alle Abhängigkeiten "
    "vorhanden sind. Beim Entfernen eines Pakets bleiben seine Konfigurationsdateien erhalten, "
    "sofern Sie nicht ausdrücklich eine vollständige Löschung verlangen.",
]
EN_BACKUP = [
    "Backing up your data",
    "Before you change the partitions of a disk, copy every file you want to keep to another "
    "disk or to a network server. A mistake while partitioning can destroy all data on the "
    "disk, whatever program you use to do it, and the installer cannot undo it for you.",
    "Check that the copy can be read back on another computer before you start: a backup "
    "that nobody has ever restored is only a hope, not a backup. Keep at least two copies "
    "in different places if the data matters to you or to the people you work with.",
]
DE_BACKUP_PARTLY = [
    "Ihre Daten sichern",
    "Bevor Sie die Partitionen einer Festplatte ändern, kopieren Sie jede Datei, die Sie "
    "behalten möchten, auf eine andere Festplatte oder auf einen Server im Netzwerk.",
    EN_BACKUP[2],  # left untranslated
]
PT_MALLARD = [
    "Instalar programas",
    "Todo programa em um sistema Debian é instalado a partir de um pacote, um arquivo que "
    "contém os arquivos do programa junto com uma descrição do que ele precisa do resto do "
    "sistema. O gerenciador de pacotes lê essas descrições antes de instalar qualquer coisa.",
    "Quando um pacote depende de uma biblioteca ausente, o gerenciador de pacotes baixa a "
    "biblioteca primeiro e instala o programa somente depois que todas as dependências "
    "estiverem presentes. Remover um pacote mantém seus arquivos de configuração.",
]
# The help page: another title over the same paragraphs (an exact copy would be a duplicate).
HELP_EN = ["Installing programs", *EN[1:]]
BOILERPLATE = "Download the ebook of this handbook today"


def docbook(blocks: list[str]) -> str:
    title, *paragraphs = blocks
    body = "".join(f'<div class="para">{p}</div>' for p in paragraphs)
    return (
        f'<html><head><title>{title}</title></head><body><div id="banner"><a href="/get">'
        f'{BOILERPLATE}</a></div><ul class="docnav top"><li><a href="prev.html">Prev</a></li>'
        f'<li><a href="next.html">Next</a></li></ul><div class="section"><h2 class="title">'
        f"{title}</h2>{body}</div></body></html>"
    )


def mallard(blocks: list[str]) -> str:
    title, *paragraphs = blocks
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        '<page xmlns="http://projectmallard.org/1.0/" type="topic" id="x"><info><credit>'
        f"<name>A Translator</name></credit></info><title>{title}</title>{body}</page>"
    )


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def pages(tmp_path) -> Path:
    """Two packages: handbook pages in en-US/de-DE/fr-FR, Mallard help in C/pt_BR."""
    folder = tmp_path / "debian-docs"
    write(folder, f"{HANDBOOK}/en-US/packages.html", docbook(EN))
    write(folder, f"{HANDBOOK}/de-DE/packages.html", docbook(DE))
    write(folder, f"{HANDBOOK}/fr-FR/packages.html", docbook(EN))  # an untranslated copy
    write(folder, f"{HANDBOOK}/en-US/backup.html", docbook(EN_BACKUP))
    write(folder, f"{HANDBOOK}/de-DE/backup.html", docbook(DE_BACKUP_PARTLY))
    write(folder, f"{HANDBOOK}/en-US/index.html", docbook(["Contents", "Chapters."]))
    write(folder, f"{HANDBOOK}/de-DE/index.html", docbook(["Inhalt", "Kapitel."]))
    write(folder, f"{HANDBOOK}/en-US/only-english.html", docbook(EN_BACKUP[:2]))
    write(folder, f"{GNOME}/C/gnome-help/packages.page", mallard(HELP_EN))
    write(folder, f"{GNOME}/pt_BR/gnome-help/packages.page", mallard(PT_MALLARD))
    return folder


def by_unit(docs) -> dict[str, dict[str, str]]:
    units: dict[str, dict[str, str]] = {}
    for d in docs:
        assert d.source == "debian"
        units.setdefault(d.unit_id, {})[d.language] = d.text
    return units


def test_units_are_pages_aligned_by_path_with_real_translations_only(pages):
    docs, skipped = read_debian(pages, min_chars=150)
    units = by_unit(docs)
    assert units.keys() == {
        "debian:debian-handbook:packages.html",
        "debian:gnome-user-docs:gnome-help/packages.page",
    }
    handbook = units["debian:debian-handbook:packages.html"]
    # fr-FR is the English page copied: not a translation
    assert handbook.keys() == {"en", "de"}
    # main text only: no banner, no Prev/Next navigation (the HTML extractor may set blocks apart
    # with a blank line, so lines are compared)
    assert [line for line in handbook["en"].splitlines() if line] == EN
    assert [line for line in handbook["de"].splitlines() if line] == DE
    # Mallard help: "C" is English, pt_BR is Portuguese; the <info> block is not text
    help_page = units["debian:gnome-user-docs:gnome-help/packages.page"]
    assert help_page.keys() == {"en", "pt"}
    assert help_page["en"] == "\n".join(HELP_EN) and help_page["pt"] == "\n".join(PT_MALLARD)
    assert skipped == {
        "untranslated": 1,
        "partly_untranslated": 1,
        "too_short": 1,
        "no_translation": 2,
    }


def test_languages_limit_the_locales_read_and_max_chars_caps_at_a_line(pages):
    docs, _ = read_debian(pages, languages=["de"], min_chars=150, max_chars=300)
    assert {d.language for d in docs} == {"en", "de"}
    assert len(by_unit(docs)) == 1
    english = next(d.text for d in docs if d.language == "en")
    assert len(english) <= 300 and english.endswith(EN[1][-30:])


def test_max_units_and_duplicate_english_pages(pages):
    assert len(by_unit(read_debian(pages, min_chars=150, max_units=1)[0])) == 1
    # the same English page under a second path is not a second unit
    write(pages, f"{HANDBOOK}/en-US/copy/packages.html", docbook(EN))
    write(pages, f"{HANDBOOK}/de-DE/copy/packages.html", docbook(DE))
    docs, skipped = read_debian(pages, min_chars=150)
    assert len(by_unit(docs)) == 2 and skipped["duplicate"] == 1


@pytest.mark.parametrize(
    ("folder", "language"),
    [
        ("en-US", "en"),
        ("C", "en"),
        ("zh-CN", "zh"),
        ("zh_CN", "zh"),
        ("pt_BR", "pt"),
        ("ja-JP", "ja"),
        ("sr@latin", "sr"),
        ("de", "de"),
    ],
)
def test_locale_folders_map_to_iso_639_1(folder, language):
    assert locale_language(folder) == language


def test_a_missing_folder_names_the_fetch_command(tmp_path):
    with pytest.raises(BadInput, match="make demo-data"):
        load_parallel(["debian"], debian_folder=tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="fetch_debian_docs.sh"):
        load_parallel(["debian"], debian_folder=tmp_path / "empty")
    with pytest.raises(BadInput, match="debian"):
        load_parallel(["debian"])


def test_settings_choose_the_folder_and_languages(pages, tmp_path):
    env = {
        "THRESHER_HOME": str(tmp_path / "home"),
        "THRESHER_LANGUAGES": "en,pt",
        "THRESHER_MURATING_SOURCES": "debian",
        "THRESHER_MURATING_DEBIAN_MIN_CHARS": "150",
    }
    with pytest.raises(BadInput, match=re.escape(str(tmp_path / "home/input/debian-docs"))):
        parallel_documents(Settings.from_env(env))
    env["THRESHER_MURATING_DEBIAN_DOCS"] = str(pages)
    docs = parallel_documents(Settings.from_env(env))
    assert {(d.unit_id, d.language) for d in docs} == {
        ("debian:gnome-user-docs:gnome-help/packages.page", "en"),
        ("debian:gnome-user-docs:gnome-help/packages.page", "pt"),
    }


def test_real_debian_pages():
    folder = Path(
        os.environ.get("THRESHER_MURATING_DEBIAN_DOCS") or REPO / ".thresher/input/debian-docs"
    )
    if not (folder / "debian-handbook").is_dir():
        pytest.skip(f"Debian documentation pages not found at {folder} (make demo-data)")
    docs, _ = read_debian(folder, languages=["de"], max_units=6)
    units = by_unit(docs)
    assert len(units) == 6 and {u.split(":")[1] for u in units} >= {"gnome-user-docs"}
    for versions in units.values():
        assert versions.keys() == {"en", "de"} and versions["en"] != versions["de"]
        assert len(versions["en"]) >= 400 and len(versions["de"]) <= 4000
