"""The watcher against a fake upstream serving successive versions of the seed lists.

The lab's group is subscribed to everything; the maintainers upstream add papers,
restyle bullets, move items, rename sections, fix typos — and sometimes the server
misbehaves. Only genuinely new entries may reach the group, each exactly once.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.core.config import AnnounceTarget, Settings, SourceConfig, WatchSettings
from bot.core.replies import Reply, ReplyKind
from bot.store.sqlite import Store
from bot.watch.delivery import RateLimit, RateLimiter, deliver
from bot.watch.poll import PollReport, poll_once
from index.model import ListDocument
from tests.fakes.upstream import FAULTS, FakeUpstream

REPO = Path(__file__).resolve().parents[1]
RESEARCH = (REPO / "data/lists/awesome-medical-research.md").read_text(encoding="utf-8")
ML = (REPO / "data/lists/awesome-medical-machine-learning.md").read_text(encoding="utf-8")
T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)

ULDOR = "* ULDor: A Universal Lesion Detector for CT Scans with Pseudo Masks [`ISBI 2019`](https://arxiv.org/abs/1901.06359)"
MULAN = ("* MULAN: Multitask Universal Lesion Analysis Network [`MICCAI 2019`](https://arxiv.org/abs/1908.04373) "
         "[`code`](https://github.com/rsummers11/CADLab/tree/master/MULAN_universal_lesion_analysis)")
LENS = "* LENS: Lesion Ensemble for Universal Lesion Detection [`arxiv`](https://arxiv.org/abs/2003.09566)"


# --- versions of the lists, as upstream maintainers make them ------------------------------

def add_after_heading(text: str, heading: str, *lines: str) -> str:
    marker = f"## {heading}\n"
    assert marker in text
    return text.replace(marker, marker + "".join(line + "\n\n" for line in lines), 1)


def restyle_bullets(text: str, old: str, new: str) -> str:
    """Every item's bullet changed (a real commit in both seeds' histories)."""
    return re.sub(rf"^(\s*)\{old} ", rf"\1{new} ", text, flags=re.M)


def move_item(text: str, fragment: str, heading: str) -> str:
    line = next(line for line in text.splitlines() if fragment in line)
    return add_after_heading(text.replace(line + "\n", "", 1), heading, line)


def rename_section(text: str, old: str, new: str) -> str:
    assert f"## {old}\n" in text
    return text.replace(f"## {old}\n", f"## {new}\n")


def edit_titles(text: str) -> str:
    """Typos fixed, a venue badge restyled, a title moved out of the link text."""
    text = text.replace("Deep Lesion Graphs in the Wild", "Deep Lesion Graphs in the Wild (oral)")
    text = text.replace("[`JMI 2018`]", "[`J. Med. Imaging 2018`]")
    return text.replace("Object Dection", "Object Detection")


# --- the scene ----------------------------------------------------------------------------

@dataclass
class Recorder:
    """The lab group's platform: records every message; the index: records every update."""

    platform: str = "telegram"
    limits: RateLimit = RateLimit()
    sent: list[tuple[str, Reply]] = field(default_factory=list)
    index_updates: list[tuple[str, str, int]] = field(default_factory=list)
    fail_index: bool = False

    async def send_reply(self, chat_id: str, reply: Reply, *, silent: bool = False) -> None:
        self.sent.append((chat_id, reply))

    async def update_source(self, name: str, fingerprint: str, document: ListDocument) -> None:
        if self.fail_index:
            raise OSError("index locked")
        self.index_updates.append((name, fingerprint, len(document.entries)))

    def announced(self) -> list[str]:
        return [entry.title for _, reply in self.sent for entry in reply.entries]


@dataclass
class Scene:
    upstream: FakeUpstream
    store: Store
    settings: Settings
    client: httpx.AsyncClient
    lab: Recorder
    now: datetime = T0

    async def poll(self, *, force: bool = True, hours: float = 2) -> PollReport:
        self.now += timedelta(hours=hours)
        report = await poll_once(self.store, self.settings, self.client, on_update=self.lab.update_source, now=self.now, force=force)
        limiter = RateLimiter({"telegram": RateLimit()})
        await deliver(self.store, {"telegram": self.lab}, self.settings, limiter=limiter, clock=lambda: self.now)
        return report

    async def announced_by_next_poll(self) -> list[str]:
        before = len(self.lab.announced())
        await self.poll()
        return self.lab.announced()[before:]


def make_settings(upstream: FakeUpstream, tmp_path: Path, **watch: object) -> Settings:
    sources = (
        SourceConfig("research", url=upstream.url("research")),
        SourceConfig("ml", url=upstream.url("ml")),
    )
    options: dict[str, object] = {"timeout": 0.5, "interval": 3600.0, **watch}
    return Settings(sources=sources, data_dir=tmp_path, watch=WatchSettings(**options))  # type: ignore[arg-type]


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    async with FakeUpstream() as upstream, httpx.AsyncClient() as client:
        upstream.publish("research", RESEARCH)
        upstream.publish("ml", ML)
        with Store(tmp_path / "state.sqlite3") as store:
            store.add_subscription("telegram", "-100lab", "", "pi")
            yield Scene(upstream, store, make_settings(upstream, tmp_path), client, Recorder())


# --- stories ------------------------------------------------------------------------------

async def test_the_first_poll_is_a_baseline_and_announces_nothing(scene: Scene) -> None:
    report = await scene.poll()
    assert [(s.name, s.outcome) for s in report.sources] == [("research", "baseline"), ("ml", "baseline")]
    assert scene.lab.sent == [] and scene.store.recent_new_entries(None, 10) == []
    states = scene.store.source_states()
    assert states["research"].entries == 83 and states["ml"].entries == 66
    assert [(name, fp) for name, fp, _ in scene.lab.index_updates] == [
        ("research", f"store:{states['research'].content_hash}"), ("ml", f"store:{states['ml'].content_hash}")
    ]
    assert scene.store.snapshot("research") == RESEARCH


async def test_exactly_the_new_entries_are_announced_through_a_season_of_upstream_edits(scene: Scene) -> None:
    await scene.poll()
    v2 = add_after_heading(RESEARCH, "Lesion Detection", ULDOR, MULAN)
    scene.upstream.publish("research", v2)
    assert sorted(await scene.announced_by_next_poll()) == [
        "MULAN: Multitask Universal Lesion Analysis Network",
        "ULDor: A Universal Lesion Detector for CT Scans with Pseudo Masks",
    ]
    (chat, reply), _ = scene.lab.sent
    assert chat == "-100lab" and reply.title == "New in research" and reply.entries[0].section == ("Lesion Detection",)

    report = await scene.poll()  # nothing changed upstream: a 304, nothing said
    assert report.outcome("research") == "unchanged" and scene.upstream.statuses("research")[-1] == 304

    restyled = restyle_bullets(v2, "*", "-")
    moved = move_item(restyled, "CornerNet", "Lesion Detection")
    renamed = rename_section(moved, "Lesion Detection", "Lesion Detection and Segmentation")
    edited = edit_titles(renamed)
    for version in (restyled, moved, renamed, edited):
        scene.upstream.publish("research", version)
        report = await scene.poll()
        assert report.outcome("research") == "changed"
        assert report.new_entries == [] and await scene.announced_by_next_poll() == []
    scene.upstream.publish("ml", restyle_bullets(ML, "-", "*"))
    assert await scene.announced_by_next_poll() == []

    scene.upstream.publish("research", add_after_heading(edited, "Lesion Detection and Segmentation", LENS))
    assert await scene.announced_by_next_poll() == ["LENS: Lesion Ensemble for Universal Lesion Detection"]
    assert [item.entry.title[:5] for item in scene.store.recent_new_entries(None, 10)] == ["LENS:", "ULDor", "MULAN"]
    assert len(scene.lab.sent) == 3


@pytest.mark.parametrize("fault", FAULTS)
async def test_a_misbehaving_upstream_announces_nothing_and_loses_no_state(scene: Scene, fault: str) -> None:
    await scene.poll()
    before = scene.store.source_states()["research"]
    updates = len(scene.lab.index_updates)
    scene.upstream.publish("research", add_after_heading(RESEARCH, "Lesion Detection", ULDOR))
    scene.upstream.fault("research", fault)
    report = await scene.poll()
    assert report.outcome("research") == "failed" and report.outcome("ml") == "unchanged"
    after = scene.store.source_states()["research"]
    assert (after.content_hash, after.etag, after.entries, after.failures) == (before.content_hash, before.etag, 83, 1)
    assert scene.store.snapshot("research") == RESEARCH
    assert scene.lab.sent == [] and len(scene.lab.index_updates) == updates
    # The next good poll picks up the real change, exactly once.
    assert await scene.announced_by_next_poll() == ["ULDor: A Universal Lesion Detector for CT Scans with Pseudo Masks"]
    assert scene.store.source_states()["research"].failures == 0


async def test_a_failing_list_backs_off_and_alerts_the_operator_once(tmp_path: Path) -> None:
    async with FakeUpstream() as upstream, httpx.AsyncClient() as client:
        upstream.publish("research", RESEARCH)
        upstream.publish("ml", ML)
        settings = make_settings(upstream, tmp_path, alert_after_failures=3,
                                 operator_chats=(AnnounceTarget("telegram", "ops"),))
        with Store(tmp_path / "state.sqlite3") as store:
            scene = Scene(upstream, store, settings, client, Recorder())
            await scene.poll()
            upstream.fault("research", "500", times=50)
            outcomes = []
            for _ in range(12):  # hourly polls that respect the backoff
                outcomes.append((await scene.poll(force=False, hours=1)).outcome("research"))
            # Polled again 1, 2, 4, 8 rounds after each failure.
            assert outcomes == ["failed", "failed", "skipped", "failed"] + ["skipped"] * 3 + ["failed"] + ["skipped"] * 4
            alerts = [reply for chat, reply in scene.lab.sent if chat == "ops"]
            assert len(alerts) == 1 and "failed 3 polls in a row" in alerts[0].plain_text()
            assert store.source_states()["research"].failures == 4
            upstream._faults.clear()
            await scene.poll(force=True)
            alerts = [reply.plain_text() for chat, reply in scene.lab.sent if chat == "ops"]
            assert len(alerts) == 2 and "reachable again" in alerts[1]
            assert store.source_states()["research"].failures == 0


async def test_a_burst_of_additions_is_held_once_then_announced_as_one_digest(scene: Scene) -> None:
    await scene.poll()
    burst = [f"* Benchmark paper {n} [`arxiv`](https://arxiv.org/abs/2101.{n:05d})" for n in range(60)]
    scene.upstream.publish("research", add_after_heading(RESEARCH, "Datasets", *burst))
    report = await scene.poll()
    assert report.outcome("research") == "held" and scene.lab.sent == []
    assert scene.store.snapshot("research") == RESEARCH and scene.store.source_states()["research"].pending_hash
    report = await scene.poll()  # the same version again: it is real
    assert report.outcome("research") == "confirmed" and len(report.new_entries) == 60
    digest = [reply for _, reply in scene.lab.sent]
    assert [reply.title for reply in digest] == [f"60 new entries in research ({n}/4)" for n in (1, 2, 3, 4)]
    assert all(reply.kind is ReplyKind.DIGEST for reply in digest) and "28 more" in digest[-1].footer
    assert scene.upstream.statuses("research")[-1] == 304  # confirmed by a conditional GET


async def test_a_version_that_lost_most_entries_is_held_and_forgotten_when_fixed(scene: Scene) -> None:
    await scene.poll()
    updates = len(scene.lab.index_updates)
    gutted = RESEARCH[: len(RESEARCH) // 4]
    scene.upstream.publish("research", gutted)
    assert (await scene.poll()).outcome("research") == "held"
    assert scene.store.snapshot("research") == RESEARCH and len(scene.lab.index_updates) == updates
    scene.upstream.publish("research", RESEARCH)  # the maintainer reverts the accident
    assert (await scene.poll()).outcome("research") == "unchanged"
    assert scene.store.source_states()["research"].pending_hash is None
    assert scene.lab.sent == []


async def test_a_paper_known_from_another_list_is_not_new_and_one_added_to_both_is_announced_once(scene: Scene) -> None:
    await scene.poll()
    known = "* Graph Neural Networks: A Review of Methods and Applications [`arxiv`](https://arxiv.org/pdf/1812.08434v4.pdf)"
    both = "* MedSAM: Segment Anything in Medical Images [`arxiv`](https://arxiv.org/abs/2304.12306)"
    scene.upstream.publish("research", add_after_heading(RESEARCH, "Graph Reasoning", known, both))
    scene.upstream.publish("ml", ML.replace("## 1. 生物 Biology\n", "## 1. 生物 Biology\n\n" + both.replace("*", "-", 1) + "\n"))
    assert await scene.announced_by_next_poll() == ["MedSAM: Segment Anything in Medical Images"]
    ((_, reply),) = scene.lab.sent
    assert reply.title == "New in research and ml" and reply.entries[0].sources == ("research", "ml")


async def test_a_local_list_is_watched_by_modification_time_and_hash(tmp_path: Path) -> None:
    lab_list = tmp_path / "lab-list.md"
    lab_list.write_text(RESEARCH, encoding="utf-8")
    settings = Settings(sources=(SourceConfig("lab", path=lab_list),), data_dir=tmp_path)
    async with httpx.AsyncClient() as client:
        with Store(tmp_path / "state.sqlite3") as store:
            store.add_subscription("telegram", "-100lab", "", "pi")
            scene = Scene(FakeUpstream(), store, settings, client, Recorder())
            assert (await scene.poll()).outcome("lab") == "baseline"
            lab_list.write_text(RESEARCH, encoding="utf-8")  # touched, same text
            assert (await scene.poll()).outcome("lab") == "unchanged"
            lab_list.write_text(add_after_heading(RESEARCH, "Datasets", LENS), encoding="utf-8")
            assert await scene.announced_by_next_poll() == ["LENS: Lesion Ensemble for Universal Lesion Detection"]
            lab_list.unlink()
            assert (await scene.poll()).outcome("lab") == "failed"
            assert store.snapshot("lab") is not None


async def test_when_the_index_cannot_be_updated_the_change_is_retried_not_lost(scene: Scene) -> None:
    await scene.poll()
    scene.upstream.publish("research", add_after_heading(RESEARCH, "Lesion Detection", ULDOR))
    scene.lab.fail_index = True
    assert (await scene.poll()).outcome("research") == "failed"
    assert scene.store.snapshot("research") == RESEARCH and scene.lab.sent == []
    scene.lab.fail_index = False
    assert await scene.announced_by_next_poll() == ["ULDor: A Universal Lesion Detector for CT Scans with Pseudo Masks"]
