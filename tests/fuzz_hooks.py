"""Schemathesis hooks for tests/test_openapi_fuzz.py (loaded by the schemathesis command it runs, not by
pytest): the facilitator routes get the fuzzing account's access token; each call of the consent route
gets a participant of the session it names, a fresh one each time, because agreeing twice is a 409
and declining deletes the participant. (Providers, not a global header: ignored_auth must be able to
take the credential away.)"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import schemathesis

# Participants joined before the run (no joins during it, so the join limit cannot get in the way).
_TOKENS = Path(os.environ["THIRDSPACE_FUZZ_PARTICIPANTS"]).read_text().split()
_next = 0
# Logins of the fuzzing account, one for each call of the logout route, which ends the one it is sent.
_LOGINS = Path(os.environ["THIRDSPACE_FUZZ_LOGINS"]).read_text().split()
_next_login = 0

LOGOUT = "/api/auth/logout"


CONSENT = "/api/sessions/{session_id}/consent"
# "Withdraw my answers" (issue 9): a participant route too; each call that succeeds deletes one.
WITHDRAW = "/api/sessions/{session_id}/withdraw"


@schemathesis.auth().apply_to(path_regex="^/api/sessions").skip_for(path=CONSENT).skip_for(path=WITHDRAW)
class Facilitator:
    def get(self, case: Any, context: Any) -> str:
        return os.environ["THIRDSPACE_FUZZ_TOKEN"]

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.auth(refresh_interval=None).apply_to(path=CONSENT).apply_to(path=WITHDRAW)
class FreshParticipant:
    def get(self, case: Any, context: Any) -> str:
        global _next
        # When the pool runs out the last one is used again: its calls are then 401 or 409, both documented.
        token = _TOKENS[min(_next, len(_TOKENS) - 1)]
        _next += 1
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.auth(refresh_interval=None).apply_to(path=LOGOUT)
class FreshLogin:
    def get(self, case: Any, context: Any) -> str:
        global _next_login
        token = _LOGINS[min(_next_login, len(_LOGINS) - 1)]
        _next_login += 1
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
