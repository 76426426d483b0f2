"""A newcomer finds any check by its id in one step: file, docs and codes line up."""

from __future__ import annotations

import ast
import re

from conftest import REPO

from envdoctor import registry


def test_every_check_lives_in_the_file_named_by_its_id():
    for check in registry.all_checks():
        if check.origin != "envdoctor":
            continue
        module = check.func.__module__.rsplit(".", 1)[-1]
        assert module == check.id.replace(".", "_"), f"{check.id} is defined in {module}.py"
        assert (REPO / "checks" / f"{module}.py").is_file()


def test_every_check_and_finding_code_is_documented():
    docs = {p.stem: p.read_text(encoding="utf-8") for p in (REPO / "docs" / "checks").glob("*.md")}
    everything = "\n".join(docs.values())
    missing = []
    for check in registry.all_checks():
        if check.origin != "envdoctor":
            continue
        if f"`{check.id}`" not in everything and check.id not in everything:
            missing.append(check.id)
        missing += [code for code in check.codes if code not in everything]
    assert not missing, f"not in docs/checks/*.md: {missing}"


def test_finding_codes_are_unique_across_checks():
    seen: dict[str, str] = {}
    for check in registry.all_checks():
        for code in check.codes:
            assert code not in seen, f"{code} is declared by {seen.get(code)} and {check.id}"
            seen[code] = check.id


# --- documented finding levels match what the checks emit --------------------------------

_DOC_ROW = re.compile(r"^\|\s*`?([a-z][a-z0-9_]*\.[EWI]\d{3})`?\s*\|\s*([a-z]+)\s*\|", re.M)
_LEVEL_NAMES = {"ERROR": "error", "WARNING": "warning", "INFO": "info"}
_LETTER = {"E": "error", "W": "warning", "I": "info"}


def _documented_levels() -> dict[str, list[tuple[str, str]]]:
    """code -> [(level, doc file)] for every row of the code tables in docs/checks/*.md."""
    rows: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((REPO / "docs" / "checks").glob("*.md")):
        for match in _DOC_ROW.finditer(path.read_text(encoding="utf-8")):
            rows.setdefault(match.group(1), []).append((match.group(2), path.name))
    return rows


def _pairs(code: ast.expr, level: ast.expr, dicts: dict[str, ast.Dict]):
    """(code, level name) pairs a `Finding(code, level, ...)` can produce, or None when the
    level is computed from something the source alone does not tell."""
    if isinstance(code, ast.Constant) and isinstance(code.value, str):
        if isinstance(level, ast.Name) and level.id in _LEVEL_NAMES:
            return [(code.value, _LEVEL_NAMES[level.id])]
        return None
    # "pip.W101" if pure else "pip.E101", WARNING if pure else ERROR
    if (isinstance(code, ast.IfExp) and isinstance(level, ast.IfExp)
            and ast.dump(code.test) == ast.dump(level.test)):
        body = _pairs(code.body, level.body, dicts)
        orelse = _pairs(code.orelse, level.orelse, dicts)
        return None if body is None or orelse is None else body + orelse
    # _CPU_CODE[level], _LEVEL[level] with both tables module-level dict literals
    if (isinstance(code, ast.Subscript) and isinstance(level, ast.Subscript)
            and isinstance(code.value, ast.Name) and isinstance(level.value, ast.Name)
            and ast.dump(code.slice) == ast.dump(level.slice)
            and code.value.id in dicts and level.value.id in dicts):
        codes = {ast.literal_eval(k): v for k, v in zip(dicts[code.value.id].keys,
                                                        dicts[code.value.id].values)}
        levels = {ast.literal_eval(k): v for k, v in zip(dicts[level.value.id].keys,
                                                         dicts[level.value.id].values)}
        if set(codes) != set(levels):
            return None
        out = []
        for key in codes:
            pair = _pairs(codes[key], levels[key], dicts)
            if pair is None:
                return None
            out += pair
        return out
    return None


def _emitted_levels() -> tuple[dict[str, set[str]], set[str]]:
    """From the check modules' source: code -> levels of every `Finding(code, LEVEL, ...)`,
    and the codes whose level is computed at run time (skipped by the comparison)."""
    emitted: dict[str, set[str]] = {}
    dynamic: set[str] = set()
    for path in sorted((REPO / "checks").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        dicts = {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                 and isinstance(node.value, ast.Dict) for target in node.targets
                 if isinstance(target, ast.Name)}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "Finding"):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            code = node.args[0] if node.args else keywords.get("code")
            level = node.args[1] if len(node.args) > 1 else keywords.get("level")
            pairs = _pairs(code, level, dicts) if code is not None and level is not None \
                else None
            if pairs is None:
                dynamic |= {n.value for n in ast.walk(code) if isinstance(n, ast.Constant)
                            and isinstance(n.value, str) and registry.CODE.match(n.value)}
                continue
            for name, lvl in pairs:
                emitted.setdefault(name, set()).add(lvl)
    return emitted, dynamic


def test_the_level_documented_for_each_code_is_the_level_the_check_emits():
    documented = _documented_levels()
    emitted, dynamic = _emitted_levels()
    assert len(documented) > 50 and len(emitted) > 50, "the parsers found (almost) nothing"
    problems = []
    for code, rows in sorted(documented.items()):
        if len(rows) > 1:
            problems.append(f"{code} has {len(rows)} rows: {rows}")
        level, doc = rows[0]
        if level != _LETTER[code.split(".")[1][0]]:
            problems.append(f"{doc}: {code} is documented as {level}, but its letter says "
                            f"{_LETTER[code.split('.')[1][0]]}")
        if code in emitted:
            if emitted[code] != {level}:
                problems.append(f"{doc}: {code} is documented as {level}; the check emits "
                                f"{sorted(emitted[code])}")
        elif code not in dynamic:
            problems.append(f"{doc}: {code} is documented but no check emits it")
    # Codes whose level is chosen at run time (cpu.E001/cpu.W001: `level` comes from the
    # data table's row) cannot be read from the source; they are skipped here, and their
    # letter is still checked against the documented level above.
    assert not problems, "\n".join(problems)
    declared = {code for check in registry.all_checks() if check.origin == "envdoctor"
                for code in check.codes}
    assert sorted(declared - set(documented)) == [], "codes missing from the docs' tables"
    assert sorted(set(emitted) - declared) == [], "codes emitted but not declared in codes="
    for code, levels in emitted.items():
        assert levels == {_LETTER[code.split(".")[1][0]]}, f"{code} is emitted as {levels}"


def test_the_level_parser_reads_every_form_the_checks_use():
    """The comparison above is only as good as the parser: feed it each form by hand."""
    source = (
        "_C = {'error': 'x.E001', 'info': 'x.I001'}\n"
        "_L = {'error': ERROR, 'info': INFO}\n"
        "Finding('x.W001', WARNING, 'm')\n"
        "Finding('x.W002' if p else 'x.E002', WARNING if p else ERROR, 'm')\n"
        "Finding(_C[k], _L[k], 'm')\n"
        "Finding('x.E003' if lv is ERROR else 'x.W003', lv, 'm')\n"
    )
    tree = ast.parse(source)
    dicts = {node.targets[0].id: node.value for node in tree.body
             if isinstance(node, ast.Assign)}
    calls = [node.value for node in tree.body
             if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)]
    found = [_pairs(call.args[0], call.args[1], dicts) for call in calls]
    assert found == [[("x.W001", "warning")],
                     [("x.W002", "warning"), ("x.E002", "error")],
                     [("x.E001", "error"), ("x.I001", "info")],
                     None]


# --- envdoctor explain CODE says something for every code --------------------------------


def test_explain_prints_the_meaning_and_the_check_docstring_for_every_code():
    from typer.testing import CliRunner

    from envdoctor.cli import app

    runner = CliRunner()
    checks = [c for c in registry.all_checks() if c.origin == "envdoctor"]
    assert len(checks) >= 16
    for check in checks:
        assert check.doc.strip(), f"{check.id} has no docstring for `envdoctor explain`"
        result = runner.invoke(app, ["explain", check.id])
        assert result.exit_code == 0, (check.id, result.output)
        assert check.title in result.output
        for code in check.codes:
            assert code in result.output, f"`envdoctor explain {check.id}` omits {code}"
        for code, meaning in check.codes.items():
            assert len(meaning.strip()) > 15, f"{code}: meaning {meaning!r} says too little"
            result = runner.invoke(app, ["explain", code])
            assert result.exit_code == 0, (code, result.output)
            first, second = result.output.splitlines()[:2]
            assert first == f"{code}: {meaning}"
            assert check.id in second
            assert check.doc.splitlines()[0] in result.output


def test_explain_of_an_unknown_name_is_a_usage_error():
    from typer.testing import CliRunner

    from envdoctor.cli import app

    result = CliRunner().invoke(app, ["explain", "cpu.E999"])
    assert result.exit_code == 2


def test_privacy_doc_lists_exactly_the_variables_the_env_probe_keeps():
    from envdoctor.probes import env
    from envdoctor.redact import SECRET_NAME

    text = (REPO / "docs" / "privacy.md").read_text(encoding="utf-8")
    allowlist, secrets = text.split("**No environment dump.**", 1)[1].split(
        "A name that looks like a secret", 1)
    names = set(re.findall(r"`([A-Z][A-Z0-9_]*)`", allowlist))
    assert {n for n in names if n.endswith("_")} == set(env.ALLOWED_PREFIXES)
    assert {n for n in names if not n.endswith("_")} == set(env.ALLOWED_NAMES)
    words = re.findall(r"`([A-Z_]+)`", secrets.split("\n- ", 1)[0])
    assert len(words) >= 5 and all(SECRET_NAME.search(w) for w in words), words


def test_every_command_option_and_argument_has_help_and_a_telling_metavar():
    """`envdoctor CMD --help` works for every command; every parameter says what it is,
    and one that takes a value names it (FILE, SECONDS, REPORT.json) or lists its choices."""
    import typer.main
    from typer.testing import CliRunner

    from envdoctor.cli import app

    commands = typer.main.get_command(app).commands
    assert {"check", "list", "explain", "fix", "wheel", "diff", "summarize"} <= set(commands)
    runner = CliRunner()
    vague = []
    for name, command in sorted(commands.items()):
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, (name, result.output)
        assert (command.help or "").strip(), f"`envdoctor {name}` has no description"
        for param in command.params:
            assert (getattr(param, "help", None) or "").strip(), f"{name} {param.name}: no help"
            takes_value = not getattr(param, "is_flag", False)
            # click's param.type (typer < 0.28), typer's own type_descriptor (0.28+)
            kind = getattr(param, "type", None) or getattr(param, "type_descriptor", None)
            choices = getattr(kind, "choices", None)
            if takes_value and not choices and not param.metavar:
                vague.append(f"{name} {param.opts[0]}")
    assert not vague, f"options that take a value without a metavar: {vague}"


def test_the_primary_cause_chain_names_real_checks_and_codes():
    from envdoctor.report import _CHAIN

    for check_id, codes in _CHAIN:
        check = registry.get(check_id)
        assert check is not None, f"{check_id} in the primary-cause chain is not a check"
        for code in codes or ():
            assert code in check.codes, f"{code} in the chain is not declared by {check_id}"
