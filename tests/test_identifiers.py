"""The identifier parser (pure): every form people paste becomes the key the index uses for links."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.identifiers import identifiers_of, parse_identifier
from index.model import Entry, Link, normalise_url


@pytest.mark.parametrize(
    ("pasted", "key"),
    [
        ("arXiv:1710.01766v2", "arxiv:1710.01766"),
        ("1710.01766", "arxiv:1710.01766"),
        ("https://arxiv.org/pdf/1710.01766v3.pdf", "arxiv:1710.01766"),
        ("hep-th/9901001v1", "arxiv:hep-th/9901001"),
        ("doi:10.48550/arXiv.1710.01766", "arxiv:1710.01766"),
        ("https://doi.org/10.1038/s41576-019-0122-6", "doi:10.1038/s41576-019-0122-6"),
        ("10.1038/S41576-019-0122-6.", "doi:10.1038/s41576-019-0122-6"),
        ("https://dx.doi.org/10.1038%2Fs41576-019-0122-6", "doi:10.1038/s41576-019-0122-6"),
        ("PMID: 26301843", "pubmed:26301843"),
        ("https://pubmed.ncbi.nlm.nih.gov/26301843/", "pubmed:26301843"),
        ("PMC4768299", "pmc:pmc4768299"),
        ("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC4768299/", "pmc:pmc4768299"),
        ("https://github.com/rsummers11/CADLab.git", "github.com/rsummers11/cadlab"),
        ("github.com/rsummers11/CADLab/tree/master/lesion_detector_3DCE", "github.com/rsummers11/cadlab"),
    ],
)
def test_every_pasted_form_becomes_the_link_key(pasted: str, key: str) -> None:
    identifier = parse_identifier(pasted)
    assert identifier is not None and identifier.key == key


@pytest.mark.parametrize("text", ["lesion detection", "2019", "https://example.org/paper", "github.com/topics/ml", "", "PMC", "arXiv"])
def test_ordinary_queries_are_not_identifiers(text: str) -> None:
    assert parse_identifier(text) is None


def test_the_keys_agree_with_how_entries_are_identified() -> None:
    for url in ("https://arxiv.org/abs/1710.01766", "https://doi.org/10.1038/s41576-019-0122-6", "https://pubmed.ncbi.nlm.nih.gov/1/"):
        identifier = parse_identifier(url)
        assert identifier is not None and identifier.key == normalise_url(url)


def test_a_nature_doi_also_names_its_nature_page() -> None:
    identifier = parse_identifier("10.1038/s41576-019-0122-6")
    assert identifier is not None and "nature.com/articles/s41576-019-0122-6" in identifier.keys


def test_an_entry_carries_the_identifiers_of_its_links_and_of_dois_in_its_text() -> None:
    entry = Entry(id="x", title="T", url="https://arxiv.org/pdf/1710.01766.pdf",
                  links=(Link("code", "https://github.com/rsummers11/CADLab/tree/master/x"),),
                  description="Published as https://doi.org/10.1117/1.JMI.5.3.036501.")
    assert [i.key for i in identifiers_of(entry)] == ["arxiv:1710.01766", "github.com/rsummers11/cadlab", "doi:10.1117/1.jmi.5.3.036501"]


@given(st.text(max_size=200))
def test_any_text_is_parsed_without_error(text: str) -> None:
    parse_identifier(text)
