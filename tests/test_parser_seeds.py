"""The two bundled seed lists read the way a person reading them on GitHub would.

The expected counts come from reading the files by hand:
- awesome-medical-research: 83 bulleted papers/resources under 17 sections (the 17
  "Contents" jumps and the CC0 licence badge are not entries);
- awesome-medical-machine-learning: 70 linked items, of which 4 repeat an earlier
  link (DeepImpute and the model-based clustering paper twice in 2.3, the DeepImpute
  and singlecelldb repositories twice in 2.3.1), so 66 entries; the 9 目录 jumps are
  absolute links to the README's own anchors and are not entries.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from index.model import Entry, ListDocument, entry_id, identity_key
from index.parser import parse_file

LISTS = Path(__file__).resolve().parents[1] / "data" / "lists"
GENOMICS = "2. 基因 Genomics"


@pytest.fixture(scope="module")
def research() -> ListDocument:
    return parse_file(LISTS / "awesome-medical-research.md")


@pytest.fixture(scope="module")
def genomics() -> ListDocument:
    return parse_file(LISTS / "awesome-medical-machine-learning.md")


def by_title(doc: ListDocument, title: str) -> Entry:
    matches = [entry for entry in doc.entries if entry.title == title]
    assert len(matches) == 1, f"{title!r}: {len(matches)} entries"
    return matches[0]


# --- awesome-medical-research -----------------------------------------------------------


def test_a_reader_sees_83_entries_in_the_research_list(research: ListDocument) -> None:
    assert len(research.entries) == 83
    assert research.title == "Some Awesome Medical Research"
    assert research.source == "awesome-medical-research"
    assert research.warnings == ()


def test_the_dialogue_paper_has_its_venue_badge_code_link_and_year(research: ListDocument) -> None:
    entry = by_title(research, "Task-oriented Dialogue System for Automatic Diagnosis")
    assert entry.url == "http://www.sdspeople.fudan.edu.cn/zywei/paper/liu-acl2018.pdf"
    assert entry.tags == ("ACL 2018", "code")
    assert entry.code_url == "https://github.com/LiuQL2/MedicalChatbot"
    assert entry.year == 2018
    assert entry.section == ("Dialog Systems",)
    assert entry.line == 25
    assert entry.description == ""
    assert entry.id == entry_id(identity_key(entry.url, entry.title))


def test_a_paper_with_two_related_code_links_keeps_all_three(research: ListDocument) -> None:
    entry = by_title(research, "KNOWLEDGE-POWERED CONVERSATIONAL AGENTS")
    assert entry.url == "https://openreview.net/pdf?id=r1l73iRqKm"
    assert [link.text for link in entry.links] == ["ICLR 2019", "related code", "related code"]
    assert entry.tags == ("ICLR 2019", "related code")
    assert entry.year == 2019


def test_links_on_a_continuation_line_belong_to_the_item(research: ListDocument) -> None:
    entry = by_title(research, "Searching for Efficient Multi-Scale Architectures for Dense Image Prediction")
    assert entry.url == "https://arxiv.org/pdf/1809.04184.pdf"
    assert len(entry.links) == 3
    assert entry.code_url == "https://github.com/tensorflow/models/tree/master/research/deeplab"
    assert entry.year == 2018  # the arXiv id 1809.xxxxx when no badge names a year


def test_sections_are_kept_as_written_even_misspelt(research: ListDocument) -> None:
    assert by_title(research, "CornerNet: Detecting Objects as Paired Keypoints").section == ("Object Dection",)
    assert ("Object Dection",) in research.sections
    assert research.sections[0] == ("Contents",)
    assert len(research.sections) == 19


def test_table_of_contents_and_licence_badge_are_not_entries(research: ListDocument) -> None:
    assert all(not (entry.url or "").startswith("#") for entry in research.entries)
    assert all(entry.section not in {("Contents",), ("License",)} for entry in research.entries)
    assert all("creativecommons" not in (entry.url or "") for entry in research.entries)


def test_title_glued_to_its_badge_and_a_spaced_destination(research: ListDocument) -> None:
    papers = by_title(research, "NeuralDialogPapers")
    assert papers.tags == ("github",)
    assert papers.url == "https://github.com/snakeztc/NeuralDialogPapers"
    assert by_title(research, "thunlp NRE").url == "https://github.com/thunlp/NRE"


def test_chinese_titles_and_years_in_titles(research: ListDocument) -> None:
    entry = by_title(research, "腾讯AI Lab开源800万中文词的NLP数据集")
    assert entry.section == ("Online Resources",)
    assert entry.year is None
    assert by_title(research, "NIPS 2018丨解读微软亚洲研究院10篇入选论文").year == 2018


# --- awesome-medical-machine-learning ---------------------------------------------------


def test_a_reader_sees_66_entries_in_the_genomics_list(genomics: ListDocument) -> None:
    assert len(genomics.entries) == 66
    assert genomics.title == "awesome-medical-machine-learning"
    assert len({entry.id for entry in genomics.entries}) == 66


def test_the_absolute_self_links_of_the_chinese_contents_are_not_entries(genomics: ListDocument) -> None:
    assert all("DenseAI/awesome-medical-machine-learning" not in (entry.url or "") for entry in genomics.entries)
    assert genomics.sections[0] == ("目录",)


def test_citation_text_gives_the_publication_year_not_a_page(genomics: ListDocument) -> None:
    entry = by_title(genomics, "Pan-cancer analysis of whole genomes")
    assert entry.year == 2020
    assert "Nature 578, 82–93 (2020)" in entry.description
    assert entry.section == (GENOMICS, "2.2 泛癌症分析 Pan-cancer analysis")
    assert [link.url for link in entry.links] == [
        "https://www.nature.com/articles/s41586-020-1969-6",
        "https://doi.org/10.1038/s41586-020-1969-6",
    ]
    assert by_title(genomics, "Predicting effects of noncoding variants with deep learning–based sequence model").year == 2015
    assert by_title(genomics, "A unified approach to interpreting model predictions").year == 2017


def test_single_cell_paper_with_chinese_section_and_translation_link(genomics: ListDocument) -> None:
    entry = by_title(genomics, "RNA sequencing: the teenage years")
    assert entry.section == (GENOMICS, "2.3 单细胞 Single-Cell")
    assert entry.year == 2019
    assert entry.url == "https://www.nature.com/articles/s41576-019-0150-2"
    assert [link.text for link in entry.links] == ["RNA sequencing: the teenage years", "PDF", "RNA-seq 这十年"]
    assert entry.line == 63


def test_headings_indented_inside_list_items_are_sections(genomics: ListDocument) -> None:
    gat = by_title(genomics, "Graph attention networks")
    assert gat.section == (GENOMICS, "2.1 基因序列分析与预测 Gene sequence analysis and prediction", "2.1.1 Software")
    assert gat.year == 2017
    shap = by_title(genomics, "shap: A game theoretic approach to explain the output of any machine learning model")
    assert shap.section[-1] == "2.1.2 Interpretation of Model Predictions"
    scvi = by_title(genomics, "scVI: scDeep generative modeling for single-cell omics data")
    assert scvi.section == (GENOMICS, "2.3 单细胞 Single-Cell", "2.3.1 Single-Cell Software")
    assert (GENOMICS, "2.3 单细胞 Single-Cell", "2.3.2 Single-Cell DataSet") in genomics.sections


def test_repeated_papers_are_one_entry_at_their_first_place(genomics: ListDocument) -> None:
    clustering = by_title(genomics, "Clustering single-cell RNA-seq data with a model-based deep learning approach")
    assert clustering.line == 67
    deepimpute = by_title(genomics, "deepimpute: An accurate and efficient deep learning method for single-cell RNA-seq data imputation")
    assert deepimpute.line == 92


def test_a_code_link_on_the_next_line_is_the_code_url(genomics: ListDocument) -> None:
    entry = by_title(genomics, "A comparison of automatic cell identification methods for single-cell RNA sequencing data")
    assert entry.code_url == "https://github.com/tabdelaal/scRNAseq_Benchmark"
    assert entry.year == 2019


def test_chinese_competition_entries_under_the_last_heading(genomics: ListDocument) -> None:
    entry = by_title(genomics, "CCKS 2017 电子病历命名实体识别")
    assert entry.section == ("3 医学 Medicine", "3.1.1 命名实体识别竞赛 Named Entity Recognition Competition")
    assert entry.year == 2017
    assert entry.url == "https://biendata.com/competition/CCKS2017_2/"
