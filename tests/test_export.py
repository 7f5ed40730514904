"""Citation files from entries (pure): what a reference manager reads back, with stable keys."""

from __future__ import annotations

import csv
import io

import bibtexparser
import rispy

from bot.core.export import bibtex_key, to_bibtex, to_csv, to_ris
from bot.core.paper_info import PaperInfo
from bot.store.metadata import PaperMeta
from index.model import Entry, Link

ODD = Entry(id="3f9a2c1d07", title="A {weird} title with 50% of } braces & \\ backslash", url="https://arxiv.org/abs/1710.01766",
            links=(Link("code", "https://github.com/lab/weird"),), section=("Imaging", "Lesion"), year=2018, source="lab")
ENRICHED = PaperInfo(ODD, ("lab",), (PaperMeta("arxiv:1710.01766", "arxiv", title="Ignored title", authors=("Ke Yan", "Le Lu"),
                                               year=2017, venue="Journal of Medical Imaging", abstract="An abstract."),))


def test_odd_list_text_survives_a_round_trip_through_bibtexparser() -> None:
    [record] = bibtexparser.parse_string(to_bibtex([ENRICHED, PaperInfo(ODD)])).entries  # the same entry twice: one record
    assert record.key == "yan2018_3f9a2c"  # the list's year wins, the first author's surname leads
    assert "weird" in record["title"] and record["title"].count("{") == 0
    assert record["author"] == "Ke Yan and Le Lu" and record["eprint"] == "1710.01766" and record["journal"] == "Journal of Medical Imaging"
    assert record["note"] == "Code: https://github.com/lab/weird"


def test_without_metadata_the_entry_alone_makes_the_record() -> None:
    [record] = bibtexparser.parse_string(to_bibtex([PaperInfo(ODD)])).entries
    assert record.entry_type == "misc" and record.key == bibtex_key(PaperInfo(ODD)) == "a2018_3f9a2c"
    assert "author" not in record.fields_dict


def test_ris_and_csv_carry_the_same_facts() -> None:
    [ris] = rispy.loads(to_ris([ENRICHED]))
    assert ris["authors"] == ["Ke Yan", "Le Lu"] and ris["year"] == "2018" and ris["title"] == ODD.title
    rows = list(csv.DictReader(io.StringIO(to_csv([ENRICHED]))))
    assert rows[0]["authors"] == "Ke Yan; Le Lu" and rows[0]["arxiv"] == "1710.01766" and rows[0]["code"] == "https://github.com/lab/weird"
