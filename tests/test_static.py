"""The pages' static files: every kind the server knows has its page module, vendored libraries match
their checksums and carry their licences, and templates hold no inline script or style (the CSP,
`default-src 'self'`, would block them)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from app.polls.kinds import KINDS

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


class TestNoInlineCode:
    def test_templates_have_no_inline_script_style_or_handler(self) -> None:
        for template in TEMPLATES.glob("*.html"):
            html = template.read_text()
            for tag in re.findall(r"<script\b[^>]*>", html):
                assert "src=" in tag or 'type="application/json"' in tag, f"{template.name}: {tag}"
            assert "<style" not in html, template.name
            assert not re.search(r"\sstyle=", html), template.name
            assert not re.search(r"\son[a-z]+=", html), template.name
