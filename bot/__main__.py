"""``python -m bot`` is ``medbot``: tests run it this way from any checkout."""

from bot.run.cli import main

raise SystemExit(main())
