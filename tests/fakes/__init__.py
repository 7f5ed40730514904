"""Loopback fakes of the platforms medbot talks to: real servers on 127.0.0.1, port 0."""

from tests.fakes.telegram_api import (
    DEFAULT_TOKEN,
    ApiCall,
    FakeTelegramAPI,
    parse_telegram_html,
)

__all__ = ["DEFAULT_TOKEN", "ApiCall", "FakeTelegramAPI", "parse_telegram_html"]
