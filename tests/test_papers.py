"""Stories of issue 15, everything about one paper: identifiers, /paper, /export, enrichment.

The services are loopback fakes (``tests.fakes.scholarly``) speaking arXiv's Atom, Crossref's
JSON, E-utilities' XML and GitHub's JSON, with their rate-limit answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import bibtexparser
import httpx
import pytest
import rispy

from bot.app import Context
from bot.core.bot import MedBot
from bot.core.commands.papers import collect_for_export
from bot.core.config import load_settings
from bot.core.link_health import all_entries
from bot.watch.enrich import Enricher
from tests.fakes.scholarly import FakeScholarly

LAB = Context(platform="console", chat_id="lab", user_id="ada")

LIST = """# Lab reading list

## Lesion Detection

* DeepLesion: automated mining of large-scale lesion annotations and universal lesion detection with deep learning [`JMI 2018`](https://arxiv.org/pdf/1710.01766.pdf) [`code`](https://github.com/rsummers11/CADLab/tree/master/lesion_detector_3DCE)

## Genomics

- [Deep learning: new computational modelling techniques for genomics](https://www.nature.com/articles/s41576-019-0122-6) Eraslan et al. https://doi.org/10.1038/s41576-019-0122-6
- [Predicting effects of noncoding variants with deep learning-based sequence model](https://pubmed.ncbi.nlm.nih.gov/26301843/) Zhou J, Troyanskaya O G.
"""

DEEPLESION = {
    "title": "DeepLesion: Automated Mining of Large-Scale Lesion Annotations and\n  Universal Lesion Detection with Deep Learning",
    "summary": "Extracting, harvesting and building large-scale annotated radiological image datasets is a greatly "
               "important yet challenging problem. Meanwhile, vast amounts of clinical annotations have been collected.",
    "authors": ["Ke Yan", "Xiaosong Wang", "Le Lu", "Ronald M. Summers"],
    "published": "2017-10-04T17:51:41Z",
    "journal_ref": "Journal of Medical Imaging 5(3), 036501 (2018)",
}
ERASLAN = {
    "title": ["Deep learning: new computational modelling techniques for genomics"],
    "author": [{"given": "Gökcen", "family": "Eraslan", "sequence": "first", "affiliation": []},
               {"given": "Žiga", "family": "Avsec", "sequence": "additional", "affiliation": []}],
    "container-title": ["Nature Reviews Genetics"],
    "issued": {"date-parts": [[2019, 4, 10]]},
    "abstract": "<jats:p>As a data-driven science, genomics largely utilizes machine learning. Deep learning helps.</jats:p>",
}
ZHOU = {"title": "Predicting effects of noncoding variants with deep learning-based sequence model.",
        "authors": [("Jian", "Zhou"), ("Olga G", "Troyanskaya")], "year": 2015, "journal": "Nature methods",
        "abstract": [("", "Identifying functional effects of noncoding variants is a major challenge.")]}


@pytest.fixture
async def services() -> AsyncIterator[FakeScholarly]:
    async with FakeScholarly() as fake:
        fake.arxiv["1710.01766"] = DEEPLESION
        fake.crossref["10.1038/s41576-019-0122-6"] = ERASLAN
        fake.pubmed["26301843"] = ZHOU
        fake.github["rsummers11/cadlab"] = {"description": "Imaging biomarkers and CAD tools", "stargazers_count": 512}
        yield fake


def write_config(tmp_path: Path, fake: FakeScholarly, *, delays: float = 0.0, extra: str = "") -> Path:
    (tmp_path / "lab.md").write_text(LIST, encoding="utf-8")
    config = tmp_path / "medbot.yaml"
    config.write_text(
        "sources:\n  - name: lab\n    path: lab.md\n    url: https://raw.githubusercontent.com/lab/reading/main/README.md\n"
        f"enrich:\n  contact: lab@example.org\n  arxiv_url: {fake.url('arxiv')}\n  crossref_url: {fake.url('crossref')}\n"
        f"  ncbi_url: {fake.url('ncbi')}\n  github_url: {fake.url('github')}\n"
        f"  arxiv_delay: {delays}\n  crossref_delay: {delays}\n  ncbi_delay: {delays}\n  github_delay: {delays}\n" + extra,
        encoding="utf-8",
    )
    return config


@pytest.fixture
def lab_core(tmp_path: Path, services: FakeScholarly) -> Iterator[MedBot]:
    core = MedBot.load(write_config(tmp_path, services), tmp_path / "data")
    yield core
    core.close()


async def enrich_once(core: MedBot) -> Any:
    assert core.store is not None
    async with httpx.AsyncClient() as client:
        enricher = Enricher(core.settings, core.store, client, github_token="")
        return await enricher.run_round(all_entries(core.settings, core.store))


# --- identifiers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pasted", "title_start"),
    [
        ("arXiv:1710.01766v2", "DeepLesion"),
        ("https://arxiv.org/abs/1710.01766v1", "DeepLesion"),
        ("https://doi.org/10.1038/s41576-019-0122-6", "Deep learning: new computational"),
        ("PMC4768299", "Predicting effects of noncoding variants"),
    ],
)
async def test_a_lab_member_pastes_an_identifier_and_gets_the_paper_first(bundled_core: MedBot, pasted: str, title_start: str) -> None:
    reply = await bundled_core.handle(f"/search {pasted}", LAB)
    assert reply is not None and reply.entries
    assert reply.entries[0].title.startswith(title_start)
    assert reply.page is not None and reply.page.total == 1  # that paper alone, not a word search for its pieces


async def test_a_repository_link_finds_the_entries_whose_code_lives_there(bundled_core: MedBot) -> None:
    reply = await bundled_core.handle("/search https://github.com/rsummers11/CADLab", LAB)
    assert reply is not None
    assert any(entry.title.startswith("DeepLesion") for entry in reply.entries)
    assert all("github.com/rsummers11/CADLab" in " ".join(url for _, url in entry.links) for entry in reply.entries)


# --- /paper ---------------------------------------------------------------------------------


async def test_paper_shows_one_entry_in_full_with_its_upstream_line(bundled_core: MedBot) -> None:
    reply = await bundled_core.handle("/paper arXiv:1710.01766v2", LAB)
    assert reply is not None and not reply.is_error
    text = reply.plain_text()
    assert reply.title.startswith("DeepLesion")
    assert "code — https://github.com/rsummers11/CADLab/tree/master/lesion_detector_3DCE" in text
    assert "Section: Lesion Detection" in text and "In lists: awesome-medical-research" in text
    assert "https://github.com/Engineering-Course/Awesome-Medical-Research/blob/master/README.md#L67" in text


async def test_the_details_button_under_a_result_opens_its_card(bundled_core: MedBot) -> None:
    results = await bundled_core.handle("/search lesion", LAB)
    assert results is not None
    details = [button for button in results.buttons if button.label.startswith("ℹ")]
    assert len(details) == len(results.entries) and all(len(b.payload.encode()) <= 64 for b in details)
    card = await bundled_core.press(details[1].payload, LAB)
    assert card.title.startswith(results.entries[1].title)


async def test_an_unknown_paper_gets_a_friendly_answer(bundled_core: MedBot) -> None:
    reply = await bundled_core.handle("/paper arXiv:9999.99999", LAB)
    assert reply is not None and reply.is_error and "No entry" in reply.plain_text()
    usage = await bundled_core.handle("/paper", LAB)
    assert usage is not None and "Usage" in usage.plain_text()


# --- export ----------------------------------------------------------------------------------


async def test_export_a_topic_as_bibtex_reads_back_one_record_per_entry(bundled_core: MedBot) -> None:
    reply = await bundled_core.handle("/export topic:单细胞 bibtex", LAB)
    assert reply is not None and len(reply.files) == 1
    attachment = reply.files[0]
    assert attachment.filename.endswith(".bib") and attachment.mime == "application/x-bibtex"
    library = bibtexparser.parse_string(attachment.data.decode("utf-8"))
    count = len(collect_for_export(bundled_core.index, "topic:单细胞"))  # every entry of that section
    assert count > 5 and f"{count} entries" in reply.plain_text()
    assert len(library.entries) == count and not library.failed_blocks
    assert len({entry.key for entry in library.entries}) == count


async def test_export_is_stable_and_speaks_ris_and_csv(bundled_core: MedBot) -> None:
    first = await bundled_core.handle("/export lesion detection bibtex", LAB)
    again = await bundled_core.handle("/export lesion detection", LAB)
    assert first is not None and again is not None and first.files[0].data == again.files[0].data
    ris = await bundled_core.handle("/export lesion detection ris", LAB)
    assert ris is not None and rispy.loads(ris.files[0].data.decode())[0]["title"]
    csv_reply = await bundled_core.handle("/export topic:lesion csv", LAB)
    assert csv_reply is not None and csv_reply.files[0].data.decode().startswith("id,title,authors")
    bad = await bundled_core.handle("/export new:abc", LAB)
    assert bad is not None and bad.is_error


# --- enrichment ------------------------------------------------------------------------------


async def test_enrichment_fills_the_paper_card(lab_core: MedBot, services: FakeScholarly) -> None:
    report = await enrich_once(lab_core)
    assert report.fetched == 4 and report.failed == 0

    card = (await lab_core.handle("/paper arXiv:1710.01766", LAB))
    assert card is not None
    text = card.plain_text()
    assert card.title.startswith("DeepLesion: automated mining")  # the list's own title wins
    assert "Authors: Ke Yan, Xiaosong Wang, Le Lu, Ronald M. Summers" in text
    assert "Journal of Medical Imaging" in text and "Abstract: Extracting, harvesting" in text
    assert "★ 512" in text
    genomics = (await lab_core.handle("/paper 10.1038/s41576-019-0122-6", LAB))
    assert genomics is not None and "Gökcen Eraslan, Žiga Avsec" in genomics.plain_text()
    assert "Nature Reviews Genetics" in genomics.plain_text()
    zhou = await lab_core.handle("/paper PMID:26301843", LAB)
    assert zhou is not None and "Jian Zhou" in zhou.plain_text() and "Nature methods" in zhou.plain_text()

    [arxiv] = services.requests_to("arxiv")
    assert arxiv.query["id_list"] == "1710.01766"
    assert "lab@example.org" in arxiv.headers["User-Agent"]
    assert services.requests_to("crossref")[0].query["mailto"] == "lab@example.org"
    assert services.requests_to("pubmed")[0].query["db"] == "pubmed"

    bib = await lab_core.handle("/export topic:genomics bibtex", LAB)
    assert bib is not None
    records = {entry.key: entry for entry in bibtexparser.parse_string(bib.files[0].data.decode()).entries}
    eraslan = next(entry for key, entry in records.items() if key.startswith("eraslan2019"))
    assert eraslan["author"] == "Gökcen Eraslan and Žiga Avsec" and eraslan["journal"] == "Nature Reviews Genetics"


async def test_a_second_round_asks_nothing_and_refreshes_only_when_due(lab_core: MedBot, services: FakeScholarly) -> None:
    await enrich_once(lab_core)
    asked = len(services.seen)
    report = await enrich_once(lab_core)
    assert len(services.seen) == asked and report.fetched == 0


async def test_enrichment_backs_off_on_429_and_503_honouring_retry_after(lab_core: MedBot, services: FakeScholarly) -> None:
    services.fail("arxiv", 503, headers={"Retry-After": "1"}, body="Rate exceeded.")
    services.fail("crossref", 429, headers={"Retry-After": "1"}, body='{"status": "error", "message": "rate limited"}')
    reset = str(int(time.time()) + 1)
    services.fail("github", 403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
                  body='{"message": "API rate limit exceeded for 127.0.0.1.", "documentation_url": "https://docs.github.com/rest"}')
    report = await enrich_once(lab_core)
    assert report.backed_off == 3 and report.fetched == 4
    for service in ("arxiv", "crossref"):
        first, second = services.requests_to(service)
        assert second.at - first.at >= 0.95  # waited out Retry-After before asking again
    first, second = services.requests_to("github")
    assert second.at - first.at >= 0.5


async def test_a_long_retry_after_pauses_the_service_instead_of_blocking(tmp_path: Path, services: FakeScholarly) -> None:
    core = MedBot.load(write_config(tmp_path, services, extra="  max_wait: 5\n"), tmp_path / "data")
    try:
        services.fail("arxiv", 429, headers={"Retry-After": "86400"}, body="Rate exceeded.")
        report = await enrich_once(core)
        assert "arxiv" in report.skipped_services and report.fetched == 3
    finally:
        core.close()


async def test_the_bot_answers_searches_while_enrichment_waits(lab_core: MedBot, services: FakeScholarly) -> None:
    services.gate = asyncio.Event()  # every service hangs until released
    enriching = asyncio.create_task(enrich_once(lab_core))
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    reply = await asyncio.wait_for(lab_core.handle("/search lesion", LAB), 5)
    assert reply is not None and reply.entries and time.perf_counter() - started < 2
    assert not enriching.done()
    services.gate.set()
    assert (await asyncio.wait_for(enriching, 10)).fetched == 4


def test_enrich_false_turns_it_off(tmp_path: Path) -> None:
    (tmp_path / "medbot.yaml").write_text("enrich: false\nlinkcheck: {per_host_per_minute: 2}\n", encoding="utf-8")
    settings = load_settings(tmp_path / "medbot.yaml", tmp_path / "data")
    assert settings.enrich.enabled is False and settings.linkcheck.per_host_per_minute == 2


def test_an_announcement_names_the_authors_the_first_sentence_and_who_added_it(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.store.metadata import MetadataStore, PaperMeta, Provenance
    from bot.store.sqlite import LoggedEntry, Store
    from bot.watch.announce_notes import announcement_notes
    from bot.watch.messages import announcement
    from index.model import Entry, entry_id, identity_key

    now = datetime.now(UTC)
    url = "https://arxiv.org/abs/1710.01766"
    entry = Entry(id=entry_id(identity_key(url, "DeepLesion")), title="DeepLesion", url=url, source="lab")
    with Store(tmp_path / "state.sqlite3") as store:
        tables = MetadataStore(store)
        tables.save_meta(PaperMeta("arxiv:1710.01766", "arxiv", authors=("Ke Yan", "Xiaosong Wang"),
                                   abstract="Large annotated datasets matter. A second sentence."), now)
        tables.save_provenance(Provenance(entry.key, "lab", sha="abc1234", pr_repo="lab/reading", pr_number=12, pr_author="ada"), now)
        logged = LoggedEntry(entry, ("lab",), now)
        text = announcement(logged, announcement_notes(store, [logged])[entry.key]).plain_text()
        bare = LoggedEntry(Entry(id="x", title="Unknown", url="https://example.org/x", source="lab"), ("lab",), now)
        assert announcement_notes(store, [bare]) == {}  # nothing known: the announcement goes out as before
    assert "Ke Yan, Xiaosong Wang" in text and "Large annotated datasets matter." in text
    assert "second sentence" not in text
    assert "Added in lab/reading#12 by ada" in text


NEW_LINE = "* [SAM-Med3D: towards general volumetric segmentation](https://arxiv.org/abs/2310.15161) [`code`](https://github.com/uni-medical/SAM-Med3D)\n"


async def _log_new_entry(core: MedBot) -> Any:
    """The watcher accepts a version of the lab list with one entry added (as a poll would)."""
    from datetime import UTC, datetime

    from bot.store.sqlite import Version
    from index.parser import parse

    assert core.store is not None
    old, new = parse(LIST, source="lab"), parse(LIST + NEW_LINE, source="lab")
    now = datetime.now(UTC)
    core.store.accept_version("lab", Version(LIST, "h1", old.entries), now=now, poll_id=core.store.begin_poll(now))
    added = [e for e in new.entries if e.key not in {o.key for o in old.entries}]
    poll = core.store.begin_poll(now)
    core.store.accept_version("lab", Version(LIST + NEW_LINE, "h2", new.entries), now=now, poll_id=poll, candidates=added)
    core.index.update_source("lab", "store:h2", new)
    return added[0]


async def test_paper_names_the_pull_request_that_added_a_new_entry(lab_core: MedBot, services: FakeScholarly) -> None:
    entry = await _log_new_entry(lab_core)
    services.commits["lab/reading"] = [
        {"sha": "b" * 40, "login": "bob", "date": "2026-11-30T12:00:00Z", "files": [{"filename": "README.md", "patch": "@@ -1 +1 @@\n-typo\n+fixed"}]},
        {"sha": "a" * 40, "login": "ada", "date": "2026-11-30T10:00:00Z", "pulls": [{"number": 123, "login": "ada"}],
         "files": [{"filename": "README.md", "patch": "@@ -10,0 +11 @@\n+" + NEW_LINE.strip()}]},
    ]
    from bot.watch.provenance import record_provenance

    assert lab_core.store is not None
    async with httpx.AsyncClient() as client:
        enricher = Enricher(lab_core.settings, lab_core.store, client, github_token="")
        assert await record_provenance(enricher, lab_core.settings, lab_core.store) == 1
    card = await lab_core.handle(f"/paper {entry.id}", LAB)
    assert card is not None and "Provenance: added in lab/reading#123 by ada" in card.plain_text()
    assert "found new by the watcher" in card.plain_text()
    listing = services.requests_to("github")[0]
    assert listing.path == "/github/repos/lab/reading/commits" and listing.query == {"path": "README.md", "sha": "main", "per_page": "10"}


async def test_when_github_is_unreachable_the_announcement_goes_out_without_provenance(lab_core: MedBot, services: FakeScholarly) -> None:
    from bot.watch.announce_notes import announcement_notes
    from bot.watch.messages import announcement
    from bot.watch.provenance import record_provenance

    entry = await _log_new_entry(lab_core)
    services.fail("github", 503, headers={"Retry-After": "86400"}, body="unavailable")
    assert lab_core.store is not None
    async with httpx.AsyncClient() as client:
        enricher = Enricher(lab_core.settings, lab_core.store, client, github_token="")
        assert await record_provenance(enricher, lab_core.settings, lab_core.store) == 0
    [logged] = lab_core.store.recent_new_entries(None, 5)
    reply = announcement(logged, announcement_notes(lab_core.store, [logged]).get(entry.key, ()))
    assert reply.entries[0].title.startswith("SAM-Med3D") and "added in" not in reply.plain_text()


async def test_a_refresh_asks_github_conditionally_and_keeps_what_it_had(tmp_path: Path, services: FakeScholarly) -> None:
    core = MedBot.load(write_config(tmp_path, services, extra="  refresh_days: 0\n"), tmp_path / "data")
    try:
        await enrich_once(core)
        report = await enrich_once(core)  # everything is due again at once
        second = services.requests_to("github")[-1]
        assert second.headers.get("If-None-Match", "").startswith('W/"')
        assert report.not_modified == 1 and report.fetched == 3
        card = await core.handle("/paper arXiv:1710.01766", LAB)
        assert card is not None and "★ 512" in card.plain_text()
    finally:
        core.close()
