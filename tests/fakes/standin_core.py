"""A small stand-in for MedBot while the real core is being written (temporary)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from bot.app import Context
from bot.commands import ArgSpec, CommandSpec, parse_command
from bot.replies import Button, EntryView, Reply

ENTRIES = [
    EntryView(
        id=f"e{n}",
        title=title,
        url=f"https://arxiv.org/abs/17{n:02d}.0176",
        section=section,
        tags=("JMI 2018",),
        code_url="https://github.com/rsummers11/CADLab" if n == 0 else None,
        description="Yan et al." * (n + 1),
        sources=("awesome-medical-research",),
    )
    for n, (title, section) in enumerate(
        [
            ("DeepLesion: automated mining of large-scale lesion annotations", ("Lesion Detection",)),
            ("Universal lesion detection", ("Lesion Detection",)),
            ("3D context enhanced region-based CNN for lesion detection", ("Lesion Detection",)),
            ("Lesion segmentation with attention", ("Lesion Detection",)),
            ("Lesion graph @everyone", ("Lesion Detection",)),
            ("scRNA lesion atlas", ("2. 基因 Genomics", "2.3 单细胞 Single-Cell")),
            ("Another lesion paper", ("Lesion Detection",)),
        ]
    )
]
SECTIONS = ["Lesion Detection", "2.3 单细胞 Single-Cell", "单细胞", "Single-Cell", "Dialog Systems"]


def _spec(name: str, arg: ArgSpec | None = None, admin_only: bool = False) -> CommandSpec:
    async def handler(core: object, args: str, ctx: Context) -> Reply:
        return Reply()

    return CommandSpec(name, handler, f"Do {name}", f"{name} 命令", f"/{name}", "", arg, admin_only)


class StandInCore:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Context]] = []
        self.tokens: dict[str, tuple[str, int]] = {}
        self.delay = 0.0

    @property
    def commands(self) -> list[CommandSpec]:
        return [
            _spec("search", ArgSpec("query", "words to look for", required=True)),
            _spec("topic", ArgSpec("name", "a section", autocomplete="topic")),
            _spec("random", ArgSpec("topic", "a section", autocomplete="topic")),
            _spec("new", ArgSpec("days", "how far back", kind="integer")),
            _spec("similar", ArgSpec("entry", "id or url", required=True, autocomplete="entry")),
            _spec("sources"),
            _spec("help"),
            _spec("subscribe", ArgSpec("filter", "topic or keywords"), admin_only=True),
        ]

    def _page(self, query: str, page: int) -> Reply:
        hits = [e for e in ENTRIES if query.lower() in e.title.lower()]
        chunk = hits[page * 5 : page * 5 + 5]
        buttons = []
        token = f"t{len(self.tokens)}"
        self.tokens[token] = (query, page)
        if page > 0:
            buttons.append(Button("‹ Previous", f"page:{token}:-1"))
        if (page + 1) * 5 < len(hits):
            buttons.append(Button("Next ›", f"page:{token}:1"))
        return Reply(title=f"Results for “{query}” — page {page + 1}", entries=tuple(chunk), buttons=tuple(buttons))

    async def handle(self, text: str, ctx: Context) -> Reply | None:
        self.seen.append((text, ctx))
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = parse_command(text)
        assert parsed is not None
        if parsed.name == "search":
            if parsed.args == "boom":
                raise RuntimeError("the index exploded")
            if parsed.args == "long":
                long = replace(ENTRIES[0], title="T" * 400, description="D" * 5000, section=("S" * 2000,), tags=("x" * 30,) * 80)
                return Reply(title="long", entries=(long,) * 12)
            return self._page(parsed.args, 0)
        if parsed.name == "similar" and parsed.args == "nope":
            return Reply(text=("No entry with that id. Usage: /similar <id>",), is_error=True)
        return Reply(title=parsed.name, text=(f"args={parsed.args}",))

    async def press(self, payload: str, ctx: Context) -> Reply:
        _, token, step = payload.split(":")
        if token not in self.tokens:
            return Reply(text=("This list has expired; search again.",), is_error=True, ephemeral=True)
        query, page = self.tokens[token]
        return self._page(query, page + int(step))

    async def complete_topic(self, prefix: str, limit: int = 25) -> list[str]:
        return [s for s in SECTIONS if prefix.lower() in s.lower()][:limit]

    async def inline_search(self, query: str, ctx: Context, limit: int = 10) -> list[EntryView]:
        return [e for e in ENTRIES if query.lower() in e.title.lower()][:limit]
