"""The pages' static files: every kind the server knows has its page module, vendored libraries match
their checksums and carry their licences, templates hold no inline script or style (the CSP,
`default-src 'self'`, would block them), and every character counter counts to the server's limit."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, TypeAdapter

from app.breakouts import schemas as breakouts
from app.polls.kinds import KINDS
from app.polls.schemas import AnchorLabel, HiddenWord, OptionLabel, Prompt, StatementText
from app.polls.template_files import SectionTitle
from app.sessions.schemas import ConsentText, ResearcherAdd, Title

APP = Path(__file__).resolve().parent.parent / "app"
STATIC = APP / "static"
TEMPLATES = APP / "templates"


class TestKindModules:
    def test_every_server_kind_has_a_page_module_in_the_registry(self) -> None:
        registry = (STATIC / "js" / "kinds" / "index.js").read_text()
        imported = set(re.findall(r"import \* as (\w+) from '\./(\w+)\.js';", registry))
        names = {module for alias, module in imported if alias == module}
        assert names == set(KINDS), "app/static/js/kinds/index.js and app/polls/kinds disagree"
        for name in names:
            source = (STATIC / "js" / "kinds" / f"{name}.js").read_text()
            assert f"export const name = '{name}';" in source
            for export in (
                "export const editor",
                "export function createInput",
                "export function createView",
            ):
                assert export in source, f"{name}.js lacks {export}"

    def test_every_relative_import_resolves(self) -> None:
        for module in (STATIC / "js").rglob("*.js"):
            for target in re.findall(r"from '(\.{1,2}/[^']+)'", module.read_text()):
                assert (module.parent / target).resolve().is_file(), f"{module.name} imports {target}"


class TestVendored:
    def test_checksums_match_and_licences_are_there(self) -> None:
        folders = [p for p in (STATIC / "vendor").iterdir() if p.is_dir()]
        assert [p.name for p in folders] == ["d3-cloud"]
        for folder in folders:
            sums = (folder / "SHA256SUMS").read_text().split("\n")
            listed = {}
            for line in filter(None, sums):
                digest, name = line.split()
                listed[name] = digest
            assert any(name.startswith("LICENSE") for name in listed)
            for name, digest in listed.items():
                assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name

    def test_pages_load_only_local_scripts_and_styles(self) -> None:
        for template in TEMPLATES.glob("*.html"):
            html = template.read_text()
            for src in re.findall(r"""(?:src|href)="([^"]+)\"""", html):
                assert not re.match(r"^(https?:)?//", src), f"{template.name} loads {src} from elsewhere"


def _max_length(kind: Any) -> int:
    """The maxLength the server's schema gives a string type."""
    return int(TypeAdapter(kind).json_schema()["maxLength"])


def _field_max_length(model: type[BaseModel], field: str) -> int:
    return int(model.model_json_schema()["properties"][field]["maxLength"])


class TestCounterLimits:
    """The console's character counters count to the limits of the request models: a limit is written
    once on the server and mirrored by a named constant in the page module, which this test holds equal
    (a counter that said 250 where the server refuses 201 would let a paste through to a bare 422)."""

    CASES: ClassVar[list[tuple[str, str, int]]] = [
        ("console.js", "PROMPT_MAX", _max_length(Prompt)),
        ("console_index.js", "TITLE_MAX", _max_length(Title)),
        ("console_index.js", "CONSENT_MAX", _max_length(ConsentText)),
        ("console/structure.js", "TITLE_MAX", _max_length(SectionTitle)),
        ("kinds/choice.js", "OPTION_MAX", _max_length(OptionLabel)),
        ("kinds/ranking.js", "OPTION_MAX", _max_length(OptionLabel)),
        ("kinds/scale.js", "STATEMENT_MAX", _max_length(StatementText)),
        ("kinds/scale.js", "LABEL_MAX", _max_length(AnchorLabel)),
        ("kinds/wordcloud.js", "WORD_MAX", _max_length(HiddenWord)),
        ("console_breakouts.js", "PROMPT_MAX", breakouts.PROMPT_MAX),
        ("console_breakouts.js", "NAME_MAX", _max_length(breakouts.GroupName)),
        ("console_breakouts.js", "LINK_MAX", _max_length(breakouts.Link)),
        ("console_breakouts.js", "BROADCAST_MAX", breakouts.BROADCAST_MAX),
        ("console_research.js", "EMAIL_MAX", _field_max_length(ResearcherAdd, "email")),
    ]

    def test_every_console_counter_has_the_servers_limit(self) -> None:
        for module, name, limit in self.CASES:
            source = (STATIC / "js" / module).read_text()
            found = re.findall(rf"^const {name} = (\d+);$", source, flags=re.MULTILINE)
            assert found == [str(limit)], f"{module}: {name} is {found}, the server's limit is {limit}"
            assert re.search(rf"charCounter\([^)]*\b{name}\b", source) or f"max: {name}" in source, (
                f"{module}: no counter counts to {name}"
            )

    def test_no_maxlength_cuts_a_paste(self) -> None:
        """A maxlength would cut a long paste silently; the counters refuse it with the limit instead
        (the join page's 8-digit code box, typed rather than pasted prose, is the one exception)."""
        for page in [*TEMPLATES.glob("*.html"), *(STATIC / "js").rglob("*.js")]:
            text = page.read_text()
            # maxlength="40", {maxlength: 40}, {'maxlength': MAX}, input.maxLength = MAX; not a comment
            hits = re.findall(r"(?i:maxlength)\s*(?:=|:\s*[\dA-Z_])|['\"](?i:maxlength)['\"]", text)
            assert len(hits) == (1 if page.name == "join.html" else 0), f"{page.name} sets a maxlength"


class TestNoInlineCode:
    def test_templates_have_no_inline_script_style_or_handler(self) -> None:
        for template in TEMPLATES.glob("*.html"):
            html = template.read_text()
            for tag in re.findall(r"<script\b[^>]*>", html):
                assert "src=" in tag or 'type="application/json"' in tag, f"{template.name}: {tag}"
            assert "<style" not in html, template.name
            assert not re.search(r"\sstyle=", html), template.name
            assert not re.search(r"\son[a-z]+=", html), template.name


class TestResendModule:
    """app/static/js/resend.js, run by node: backoff bounds and which refusals are resent."""

    def test_backoff_resends_and_refusals(self) -> None:
        import shutil
        import subprocess

        from tests.conftest import skip_or_fail

        node = shutil.which("node")
        if node is None:
            skip_or_fail("node is not installed")
            return
        module = (Path(__file__).parent.parent / "app/static/js/resend.js").as_uri()
        script = f"""
import {{ backoff, shouldResend, waitingSentence, createResender }} from '{module}';
const out = {{
  low: [0, 1, 2, 3, 6, 10, 20].map((a) => backoff(a, () => 0)),
  high: [0, 1, 2, 3, 6, 10, 20].map((a) => backoff(a, () => 0.999999)),
  resend: ['server_error', 'too_many_pending', 'server_busy', 'server_restarting', 'rate_limited',
    'question_closed', 'consent_required'].map(shouldResend),
  none: waitingSentence(0), one: waitingSentence(1), two: waitingSentence(2),
}};
const pending = [{{ id: 'a' }}, {{ id: 'b' }}];
const sent = []; const timers = [];
const r = createResender({{ pendingList: () => pending, send: (e) => sent.push(e.id),
  setTimer: (f, ms) => {{ timers.push([f, ms]); return timers.length; }},
  clearTimer: () => {{}}, random: () => 0 }});
r.resendAll();
out.delays = [r.later(pending[1]), r.later(pending[1]), r.later(pending[1])];
pending.splice(1, 1);
timers[0][0]();
pending.push({{ id: 'c' }});
timers[1][0]();
out.sent = sent;
console.log(JSON.stringify(out));
"""
        command = [node, "--input-type=module", "-e", script]
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
        out = json.loads(done.stdout)
        assert out["low"] == [250, 500, 1000, 2000, 15000, 15000, 15000]
        assert out["high"] == [500, 1000, 2000, 4000, 30000, 30000, 30000]
        assert out["resend"] == [True, True, True, True, True, False, False]
        assert out["none"] is None
        assert out["one"].startswith("1 answer is waiting")
        assert out["two"].startswith("2 answers are waiting")
        # Everything on reconnect, in order; a backoff grows; a settled message is never resent.
        assert out["delays"] == [250, 500, 1000]
        assert out["sent"] == ["a", "b"]
