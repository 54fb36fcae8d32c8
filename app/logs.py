"""Logging that never carries a client's address, token or message body (ETHICS 2)."""

from __future__ import annotations

import logging
from typing import Any


class NoClientAddresses(logging.Filter):
    """uvicorn logs every websocket handshake as '<client address> - "WebSocket /path" ...' on its
    error logger; those lines go. (The access log, which prints addresses too, is switched off.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        # "connection open/closed" carry no address, but at thousands of phones they are only noise.
        return '"WebSocket ' not in message and message not in ("connection open", "connection closed")


LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_addresses": {"()": "app.logs.NoClientAddresses"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["no_addresses"],
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        "app": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}
