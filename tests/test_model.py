"""Entry identity: the forms people write of one link are one entry."""

import pytest

from index.model import entry_id, identity_key, normalise_url, section_key


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("https://arxiv.org/abs/1810.04805", "http://arxiv.org/pdf/1810.04805v2.pdf"),
        ("https://www.nature.com/articles/s41586-020-1969-6/", "http://nature.com/articles/s41586-020-1969-6"),
        ("https://github.com/PetarV-/GAT?utm_source=x", "https://github.com/petarv-/gat"),
        ("https://doi.org/10.1038/S41586-019-1913-9", "http://dx.doi.org/10.1038/s41586-019-1913-9"),
        ("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC4768299", "https://pmc.ncbi.nlm.nih.gov/articles/PMC4768299/"),
        ("https://www.ncbi.nlm.nih.gov/pubmed/30123456", "https://pubmed.ncbi.nlm.nih.gov/30123456/"),
    ],
)
def test_written_forms_of_one_link_share_a_key(left: str, right: str) -> None:
    assert normalise_url(left) == normalise_url(right)


def test_different_papers_keep_different_keys() -> None:
    assert normalise_url("https://arxiv.org/abs/1810.04805") != normalise_url("https://arxiv.org/abs/1810.04806")
    assert normalise_url("https://github.com/a/b#usage") != normalise_url("https://github.com/a/b#install")


def test_link_less_entries_are_identified_by_title() -> None:
    assert identity_key(None, "Deep  Lesion  Graphs!") == identity_key("", "deep lesion graphs")
    assert entry_id(identity_key(None, "x")) == entry_id(identity_key(None, "X"))
    assert len(entry_id("anything")) == 10


def test_section_numbering_is_ignored_for_matching() -> None:
    assert section_key("2.1.1 Software") == section_key("software")
    assert section_key("2.3 单细胞 Single-Cell") == section_key("单细胞 single cell")


def test_a_link_with_an_unbalanced_bracket_in_its_host_still_has_a_key() -> None:
    # urlsplit raises "Invalid IPv6 URL" on these; a typo in one link must not break a list.
    assert normalise_url("http://[oops") == "http://[oops"
    assert identity_key("https://[broken/paper", "Paper") == "https://[broken/paper"
