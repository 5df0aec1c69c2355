"""Each table is written by one module of ``pipeline/store/``, checked on the source itself.

Every SQL write in ``pipeline``, ``web`` and ``workers`` (``INSERT INTO``, ``UPDATE``,
``DELETE FROM``, ``MERGE INTO``, ``COPY … FROM``) is found in the string constants that
``ast`` reads, docstrings left out, and is attributed to the module that defines the
string. A statement spanning tables is composed of fragments its tables' owners export,
so each fragment counts for the module it is written in. The tables are those the
migrations create; what the migrations themselves write is not checked.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "web", "workers")
STORE = "pipeline.store."
MIGRATIONS = ROOT / "pipeline" / "migrations"

# Row locks and upsert branches say UPDATE without writing a table of their own.
NOT_A_WRITE = re.compile(r"\b(?:FOR\s+(?:NO\s+KEY\s+)?UPDATE|DO\s+UPDATE)\b", re.IGNORECASE)
WRITE = re.compile(
    r"\b(?P<verb>INSERT\s+INTO|UPDATE|DELETE\s+FROM|MERGE\s+INTO|COPY)\s+(?:ONLY\s+)?"
    r"(?P<target>(?:\"?\w+\"?\.)?\"?\w+\"?|\{\})?(?P<rest>\s*(?:\([^)]*\))?\s*\w*)",
    re.IGNORECASE,
)
CREATE_TABLE = re.compile(
    r"CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:\w+\.)?\"?(\w+)", re.IGNORECASE
)


def schema_tables() -> set[str]:
    """The tables the migrations create: a word after UPDATE that is none of them is prose."""
    sql = "\n".join(path.read_text() for path in MIGRATIONS.glob("*.sql"))
    return {name.lower() for name in CREATE_TABLE.findall(sql)}


TABLES = schema_tables()


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def docstrings(tree: ast.Module) -> set[int]:
    """The ids of the module, class and function docstring nodes of ``tree``."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, owners)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }


def string_constants(path: Path) -> list[str]:
    """Every string literal of ``path`` but docstrings; an f-string reads ``{}`` per field."""
    tree = ast.parse(path.read_text())
    skip = docstrings(tree)
    inside_fstrings = {
        id(part)
        for node in ast.walk(tree)
        if isinstance(node, ast.JoinedStr)
        for part in ast.walk(node)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append(
                "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values)
            )
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip | inside_fstrings
        ):
            found.append(node.value)
    return found


def written_tables(text: str) -> list[str]:
    """The tables ``text`` writes; ``?`` for a write whose table is not spelled out (a
    ``{}`` field of an f-string, or a statement cut off where the table should be)."""
    tables = []
    for match in WRITE.finditer(NOT_A_WRITE.sub(" ", text)):
        target = (match.group("target") or "").replace('"', "").split(".")[-1].lower()
        if match.group("verb").upper() == "COPY" and "from" not in match.group("rest").lower():
            continue  # COPY … TO reads
        if target in TABLES:
            tables.append(target)
        elif target in ("", "{}"):
            tables.append("?")
    return tables


def writers_by_table() -> dict[str, set[str]]:
    writers: dict[str, set[str]] = defaultdict(set)
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.relative_to(ROOT).parts:
                continue
            for text in string_constants(path):
                for table in written_tables(text):
                    writers[table].add(module_name(path))
    return writers


def test_the_scan_finds_writes_in_every_form_it_should():
    sql = """
        WITH a AS (INSERT INTO tickets (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = 2)
        UPDATE ONLY public."messages" SET x = 1 FROM t FOR UPDATE;
        DELETE FROM blobs; MERGE INTO contacts c USING s ON true;
        COPY attachments (a, b) FROM STDIN; COPY sent_mails TO STDOUT;
        SELECT 1 FROM webhooks FOR NO KEY UPDATE OF webhooks SKIP LOCKED
    """
    assert written_tables(sql) == ["tickets", "messages", "blobs", "contacts", "attachments"]
    assert written_tables("UPDATE {} SET x = 1") == ["?"]
    assert written_tables("DELETE FROM ") == ["?"]
    assert written_tables("update the mailbox, then copy its folders") == []


def test_every_table_is_written_by_one_store_module():
    shared_or_outside = {
        table: sorted(modules)
        for table, modules in writers_by_table().items()
        if len(modules) != 1 or not next(iter(modules)).startswith(STORE)
    }
    assert shared_or_outside == {}
