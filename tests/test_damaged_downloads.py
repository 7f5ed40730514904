"""Damaged downloads: the lab hears of real papers only, whatever the wire or the server did.

The lab's group is subscribed to everything. Upstream, a maintainer adds one paper
(ULDor) to the research list; between them and the watcher, the download is cut off, a
file is cut on the server itself, bytes arrive in the wrong charset, a link gets one bad
byte, a redirect points at another host serving a planted copy, or the server asks to be
left alone for two hours. Each story polls the real fake upstream (``tests/fakes/upstream``)
with ``poll_once`` and a real SQLite store: nothing false is announced, the last good
snapshot stays, and the next good poll announces the real paper exactly once.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from bot.core.config import Settings, SourceConfig, WatchSettings
from bot.store.sqlite import Store
from bot.watch.poll import PollReport
from tests.fakes.loopback import serve_on_loopback
from tests.fakes.upstream import RETRY_AFTER, FakeUpstream
from tests.test_watcher import (
    LENS,
    ML,
    MULAN,
    RESEARCH,
    ULDOR,
    Recorder,
    Scene,
    add_after_heading,
    make_settings,
    restyle_bullets,
)

ULDOR_TITLE = "ULDor: A Universal Lesion Detector for CT Scans with Pseudo Masks"
MULAN_TITLE = "MULAN: Multitask Universal Lesion Analysis Network"
LENS_TITLE = "LENS: Lesion Ensemble for Universal Lesion Detection"
V2 = add_after_heading(RESEARCH, "Lesion Detection", ULDOR)
"""The research list with the one real new paper."""

PLANTED_LINES = (
    "* Miracle Cure Detector [`arxiv`](https://arxiv.org/abs/2401.00001)",
    "* Buy Cheap Segmentation Now [`code`](https://github.com/planted/segmentation)",
)
PLANTED = add_after_heading(V2, "Datasets", *PLANTED_LINES)
"""What another host serves under the same path: the real list plus two planted entries."""

TRUNCATIONS = 20
TRUNCATION_SEED = 20261201


@asynccontextmanager
async def opened(tmp_path: Path, **watch: object) -> AsyncIterator[Scene]:
    """A fresh upstream, store and lab group, after the baseline poll of both lists."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    async with FakeUpstream() as upstream, httpx.AsyncClient() as client:
        upstream.publish("research", RESEARCH)
        upstream.publish("ml", ML)
        with Store(tmp_path / "state.sqlite3") as store:
            store.add_subscription("telegram", "-100lab", "", "pi")
            scene = Scene(upstream, store, make_settings(upstream, tmp_path, **watch), client, Recorder())
            report = await scene.poll()
            assert (report.outcome("research"), report.outcome("ml")) == ("baseline", "baseline")
            yield scene


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    async with opened(tmp_path) as opened_scene:
        yield opened_scene


def error_of(report: PollReport, name: str) -> str:
    return next(source.error or "" for source in report.sources if source.name == name)


def good_snapshot_kept(scene: Scene) -> bool:
    """The research list is still its baseline: same text, 83 entries; nobody told, nothing recorded as new."""
    state = scene.store.source_states()["research"]
    return (scene.store.snapshot("research") == RESEARCH and state.entries == 83
            and scene.lab.sent == [] and scene.store.recent_new_entries(None, 10) == [])


async def fails_then_recovers(scene: Scene, fault: str, *error_parts: str) -> None:
    """One poll under ``fault`` fails and changes nothing; the next announces ULDor once."""
    scene.upstream.publish("research", V2)
    scene.upstream.fault("research", fault)
    report = await scene.poll()
    assert report.outcome("research") == "failed" and report.outcome("ml") == "unchanged"
    error = error_of(report, "research")
    assert all(part in error for part in error_parts), error
    assert good_snapshot_kept(scene)
    assert scene.store.source_states()["research"].last_error == error
    assert await scene.announced_by_next_poll() == [ULDOR_TITLE]
    assert await scene.announced_by_next_poll() == []
    assert scene.store.snapshot("research") == V2


# --- 1. a download cut off mid-way, with no Content-Length ---------------------------------

async def test_a_list_cut_off_mid_download_announces_nothing(scene: Scene) -> None:
    # The server sends no length and hangs up at 70%: that looks exactly like a whole body.
    await fails_then_recovers(scene, "close-delimited-cut", "without a length", "second read differs")


@pytest.mark.parametrize(("fault", "times", "requests"), [("close-delimited", 2, 2), ("close-delimited-hashed", 1, 1)])
async def test_a_whole_list_without_a_length_is_adopted_when_read_twice_alike_or_hashed(
    scene: Scene, fault: str, times: int, requests: int
) -> None:
    scene.upstream.publish("research", V2)
    scene.upstream.fault("research", fault, times=times)
    before = len(scene.upstream.statuses("research"))
    report = await scene.poll()
    assert report.outcome("research") == "changed"
    assert len(scene.upstream.statuses("research")) - before == requests  # a hash ETag spares the second read
    assert scene.lab.announced() == [ULDOR_TITLE] and scene.store.snapshot("research") == V2
    assert scene.store.source_states()["research"].entries == 84


# --- 2. files cut on the server at random places -------------------------------------------

@dataclass(frozen=True, slots=True)
class Cut:
    offset: int
    outcome: str
    kept: bool
    announced_by_cut: tuple[str, ...]
    announced_after: tuple[str, ...]

    @property
    def false_entry(self) -> bool:
        return any(title != ULDOR_TITLE for title in self.announced_by_cut + self.announced_after)


async def test_twenty_random_truncations_are_held_or_failed_and_none_adopted(tmp_path: Path) -> None:
    body = V2.encode("utf-8")
    offsets = sorted(random.Random(TRUNCATION_SEED).sample(range(1, len(body)), TRUNCATIONS))
    cuts: list[Cut] = []
    for offset in offsets:  # a fresh upstream and store for each: no cut sees another's state
        async with opened(tmp_path / f"cut-{offset}") as scene:
            scene.upstream.publish("research", V2)
            scene.upstream.fault("research", "cut-at", at=offset)  # whole by every HTTP measure
            report = await scene.poll()
            kept = good_snapshot_kept(scene)
            announced_by_cut = tuple(scene.lab.announced())
            await scene.poll()  # the server has the whole file again
            cuts.append(Cut(offset, report.outcome("research"), kept, announced_by_cut, tuple(scene.lab.announced())))
    outcomes = Counter(cut.outcome for cut in cuts)
    false = [cut.offset for cut in cuts if cut.false_entry]
    print(f"{TRUNCATIONS} random truncations of a {len(body)}-byte list (seed {TRUNCATION_SEED}): "
          f"{outcomes['held']} held, {outcomes['failed']} failed, "
          f"{TRUNCATIONS - outcomes['held'] - outcomes['failed']} adopted, {len(false)} with a false entry")
    assert false == []
    assert [cut.offset for cut in cuts if cut.outcome not in ("held", "failed")] == []
    assert [cut.offset for cut in cuts if not cut.kept] == []
    assert all(cut.announced_after == (ULDOR_TITLE,) for cut in cuts)  # the real paper, exactly once
    assert outcomes["held"] and outcomes["failed"]  # the seed reaches both defences


# --- 3. the wrong charset ------------------------------------------------------------------

@pytest.mark.parametrize(("fault", "error_part"), [
    ("gbk", "not valid UTF-8"),  # GBK, no charset declared
    ("gbk-as-utf8", "not valid UTF-8"),  # GBK, declared as UTF-8
    ("utf-16", "UTF-16 body (by its byte-order mark) served as utf-8"),
    ("utf-16-no-bom", "not valid UTF-8"),  # little-endian, no BOM, no charset
])
async def test_a_list_in_the_wrong_charset_announces_nothing(scene: Scene, fault: str, error_part: str) -> None:
    await fails_then_recovers(scene, fault, error_part)


async def test_a_list_in_utf16_declared_as_such_is_read_exactly(scene: Scene) -> None:
    scene.upstream.publish("research", V2)
    scene.upstream.fault("research", "utf-16-declared")
    report = await scene.poll()
    assert report.outcome("research") == "changed" and scene.lab.announced() == [ULDOR_TITLE]
    assert scene.store.snapshot("research") == V2  # every Chinese character intact
    assert await scene.announced_by_next_poll() == []


# --- 4. one bad byte -----------------------------------------------------------------------

async def test_one_invalid_byte_inside_a_link_announces_nothing(scene: Scene) -> None:
    # Replaced by U+FFFD, the damaged link would be a "new" paper (and a real one gone).
    await fails_then_recovers(scene, "invalid-byte", "not valid UTF-8 (byte 0xff at offset")


async def test_one_invalid_byte_in_a_list_served_as_latin1_announces_nothing(tmp_path: Path) -> None:
    # Many servers call every text file ISO-8859-1. Read so, a UTF-8 list with one bad byte
    # decodes "fine" and an old entry comes back as a "new" paper with a garbled link.
    served = {"body": RESEARCH.encode("utf-8")}

    async def latin1(request: web.Request) -> web.Response:
        return web.Response(body=served["body"], headers={"Content-Type": "text/plain; charset=iso-8859-1"})

    app = web.Application()
    app.router.add_get("/research.md", latin1)
    runner, root = await serve_on_loopback(app)
    settings = Settings(sources=(SourceConfig("research", url=f"{root}/research.md"),), data_dir=tmp_path,
                        watch=WatchSettings(timeout=0.5, interval=3600.0))
    try:
        async with httpx.AsyncClient() as client:
            with Store(tmp_path / "state.sqlite3") as store:
                store.add_subscription("telegram", "-100lab", "", "pi")
                scene = Scene(FakeUpstream(), store, settings, client, Recorder())
                assert (await scene.poll()).outcome("research") == "baseline"  # UTF-8 is tried first
                link = b"(https://github.com/snakeztc/NeuralDialogPapers)"
                served["body"] = V2.encode("utf-8").replace(link, link.replace(b"Dialog", b"Dia\xfflog"))
                report = await scene.poll()
                assert report.outcome("research") == "failed"
                assert error_of(report, "research").startswith("not valid UTF-8 (byte 0xff at offset")
                assert good_snapshot_kept(scene)
                served["body"] = V2.encode("utf-8")
                assert await scene.announced_by_next_poll() == [ULDOR_TITLE]
    finally:
        await runner.cleanup()


# --- 5. redirects --------------------------------------------------------------------------

async def test_a_redirect_to_another_host_is_not_followed(scene: Scene) -> None:
    scene.upstream.publish_elsewhere("research", PLANTED)
    await fails_then_recovers(scene, "redirect-away", f"redirected to {scene.upstream.elsewhere_url}, not followed",
                              "watch.redirect_hosts")
    assert not {"Miracle Cure Detector", "Buy Cheap Segmentation Now"} & set(scene.lab.announced())


async def test_a_redirect_on_the_same_host_is_followed(scene: Scene) -> None:
    scene.upstream.publish("research", V2)
    scene.upstream.fault("research", "redirect-here")
    assert await scene.announced_by_next_poll() == [ULDOR_TITLE]
    assert scene.store.snapshot("research") == V2


async def test_a_redirect_to_a_host_named_in_redirect_hosts_is_followed(tmp_path: Path) -> None:
    async with opened(tmp_path) as scene:
        scene.settings = make_settings(scene.upstream, tmp_path, redirect_hosts=(scene.upstream.elsewhere_host,))
        scene.upstream.publish("research", V2)
        scene.upstream.publish_elsewhere("research", PLANTED)
        scene.upstream.fault("research", "redirect-away")
        report = await scene.poll()
        assert report.outcome("research") == "changed"
        assert sorted(scene.lab.announced()) == sorted(["Miracle Cure Detector", "Buy Cheap Segmentation Now", ULDOR_TITLE])
        assert scene.store.snapshot("research") == PLANTED


# --- 6. Retry-After as an HTTP-date --------------------------------------------------------

@pytest.mark.parametrize("fault", ["429-date", "503-date"])
async def test_a_retry_after_date_two_hours_ahead_is_respected(scene: Scene, fault: str) -> None:
    scene.upstream.publish("research", V2)
    scene.upstream.fault("research", fault)
    report = await scene.poll()
    assert report.outcome("research") == "failed" and error_of(report, "research") == f"HTTP {fault[:3]}"
    next_poll = scene.store.source_states()["research"].next_poll
    assert next_poll is not None and next_poll - scene.now >= RETRY_AFTER  # more than the 51 min backoff
    asked = len(scene.upstream.statuses("research"))
    assert (await scene.poll(force=False, hours=1)).outcome("research") == "skipped"
    assert (await scene.poll(force=False, hours=0.95)).outcome("research") == "skipped"
    assert len(scene.upstream.statuses("research")) == asked and good_snapshot_kept(scene)
    assert await scene.announced_by_next_poll() == [ULDOR_TITLE]  # 2 h 9 min after the 429/503


# --- 7. a file that ends inside its last entry ---------------------------------------------

async def test_an_entry_the_file_ends_inside_is_never_announced_but_an_earlier_new_one_is(scene: Scene) -> None:
    whole = V2.replace("\n\n## License\n", f"\n{MULAN}\n\n## License\n", 1)  # MULAN appended as the last entry
    cut_in_link = whole.index("(https://arxiv.org/abs/1908.04373)") + len("(https://arxiv.org/abs/1908.04")
    scene.upstream.publish("research", whole)
    scene.upstream.fault("research", "cut-at", at=len(whole[:cut_in_link].encode("utf-8")))
    report = await scene.poll()
    assert report.outcome("research") == "changed"  # nothing lost but the tail: adopted, the cut item not believed
    assert scene.lab.announced() == [ULDOR_TITLE]
    assert [item.entry.title for item in scene.store.recent_new_entries(None, 10)] == [ULDOR_TITLE]
    # The whole file again: MULAN is announced with its real link, once; the cut form never was.
    assert await scene.announced_by_next_poll() == [MULAN_TITLE]
    assert [(item.entry.title, item.entry.url) for item in scene.store.recent_new_entries(None, 10)] == [
        (MULAN_TITLE, "https://arxiv.org/abs/1908.04373"), (ULDOR_TITLE, "https://arxiv.org/abs/1901.06359"),
    ]
    assert await scene.announced_by_next_poll() == []


# --- 8. ordinary edits still work ----------------------------------------------------------

async def test_a_legitimate_append_is_announced_once_and_a_restyle_says_nothing(scene: Scene) -> None:
    appended = V2.replace("\n## Object Dection\n", f"\n{LENS}\n\n## Object Dection\n", 1)
    appended = appended.replace("\n\n## License\n", f"\n{MULAN}\n\n## License\n", 1)  # and after the last entry
    scene.upstream.publish("research", appended)
    report = await scene.poll()
    assert report.outcome("research") == "changed"
    assert sorted(scene.lab.announced()) == sorted([ULDOR_TITLE, LENS_TITLE, MULAN_TITLE])
    assert await scene.announced_by_next_poll() == [] and scene.upstream.statuses("research")[-1] == 304
    scene.upstream.publish("research", restyle_bullets(appended, "*", "-"))
    report = await scene.poll()
    assert report.outcome("research") == "changed" and report.new_entries == []
    assert len(scene.lab.sent) == 3 and scene.store.source_states()["research"].entries == 86


async def test_an_entry_appended_as_the_last_line_without_a_final_newline_is_announced_once(scene: Scene) -> None:
    # The ml list ends with items; many upstream files have no final newline. The item is whole:
    # its link is closed. (A cut one, like MULAN's above, ends with its link still open.)
    medsam = "- [MedSAM: Segment Anything in Medical Images](https://arxiv.org/abs/2304.12306)"
    scene.upstream.publish("ml", ML.rstrip("\n") + "\n" + medsam)
    assert await scene.announced_by_next_poll() == ["MedSAM: Segment Anything in Medical Images"]
    scene.upstream.publish("ml", ML.rstrip("\n") + "\n" + medsam + "\n")  # a later commit adds the newline
    assert await scene.announced_by_next_poll() == []
    assert scene.store.source_states()["ml"].entries == 67
