"""Attack class: Markdown in values of a report pasted into an issue.

Finding messages, summaries, hints, environment values, package names and fact paths
from a hostile report must stay inert when `check --format markdown` or `diff --format
markdown` output is pasted into a GitHub issue: no heading, image, link, @mention, raw
HTML, nothing that closes the folded JSON's <details> or swallows the rest with an
unclosed fence. The output is rendered by a real CommonMark + GFM parser (markdown-it-py,
"gfm-like": tables, strikethrough, autolinks) and the HTML is inspected.
"""

from __future__ import annotations

import re

import pytest
from conftest import run_envdoctor
from hostile import MARKDOWN, hostile_report, write

markdown_it = pytest.importorskip("markdown_it")
pytest.importorskip("linkify_it")


def _html(markdown: str) -> str:
    return markdown_it.MarkdownIt("gfm-like").render(markdown)


def _outside_code(html: str) -> str:
    """The HTML with every <code>...</code> (inline and in <pre>) removed."""
    return re.sub(r"<code[^>]*>.*?</code>", "", html, flags=re.S)


def _assert_inert(markdown: str, where: str) -> None:
    html = _html(markdown)
    rest = _outside_code(html)
    assert "FORGED-HEADING" not in rest, f"{where}: a value left its code span"
    assert "<img" not in html and "<script" not in html, where
    assert "evil.example" not in rest, f"{where}: a link or autolink escaped"
    assert "@octocat" not in rest, f"{where}: an @mention outside code"
    assert "owner/repo#1" not in rest, where
    # Our own <details> opens and closes once, and the JSON is all inside it.
    assert html.count("<details>") <= 1 and html.count("</details>") == html.count("<details>")
    if "<details>" in html:
        inside = html.split("<details>", 1)[1].split("</details>", 1)[0]
        assert '<pre><code class="language-json">' in inside
        assert html.rstrip().endswith("</details>"), f"{where}: something after </details>"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("markdown")
    return write(tmp, "hostile.json", hostile_report(MARKDOWN)), tmp


def test_check_from_markdown_is_inert(hostile):
    path, _ = hostile
    run = run_envdoctor("check", "--from", str(path), "--format", "markdown")
    assert run.returncode in (0, 1, 3), run.stderr
    assert "FORGED-HEADING" in run.stdout  # it is shown, as text
    _assert_inert(run.stdout, "check --format markdown")
    # The tables keep their columns: a | in a value is escaped.
    html = _html(run.stdout)
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        assert row.count("<td>") in (0, 2, 3), row


def test_diff_markdown_is_inert(hostile):
    path, tmp = hostile
    import fleet_reports

    clean = write(tmp, "clean.json", fleet_reports.report(fleet_reports.facts()))
    run = run_envdoctor("diff", str(clean), str(path), "--format", "markdown")
    assert run.returncode == 1, run.stderr
    assert "FORGED-HEADING" in run.stdout
    _assert_inert(run.stdout, "diff --format markdown")
    html = _html(run.stdout)
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        assert row.count("<td>") in (0, 3, 4), row
