"""Write artlang/language/parse_tables.py: the LALR tables of grammar.lark as plain Python data, so
a render loads the parser (a few milliseconds) instead of building it (about 0.1 s a process).

    .venv/bin/python tools/make_parse_tables.py           # write the tables
    .venv/bin/python tools/make_parse_tables.py --check   # exit 1 if they are not the grammar's

The file holds dictionaries, lists, strings and numbers only (no pickle, nothing that runs), and
the digest of the grammar and options it was built from: a parser whose grammar changed since is
built from the grammar instead (tests/test_parser.py checks that the committed tables are current).
Lark numbers the states in an order that differs from run to run, so two runs write different
(equally valid) tables; `--check` compares the digest.
"""
from __future__ import annotations

import pprint
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lark.grammar import Rule  # noqa: E402
from lark.lexer import TerminalDef  # noqa: E402

from artlang.language.parser import GRAMMAR, build_lark, grammar_digest  # noqa: E402

TABLES = ROOT / "artlang" / "language" / "parse_tables.py"


def tables_text() -> str:
    text = GRAMMAR.read_text(encoding="utf-8")
    data, memo = build_lark(text).memo_serialize([TerminalDef, Rule])
    data["options"]["postlex"] = None              # given again when the tables are loaded
    return ('"""The LALR tables of grammar.lark, made by tools/make_parse_tables.py: do not edit."""\n'
            f"GRAMMAR_DIGEST = {grammar_digest(text)!r}\n"
            f"DATA = {pprint.pformat(data, width=100, sort_dicts=True)}\n"
            f"MEMO = {pprint.pformat(memo, width=100, sort_dicts=True)}\n")


def main(arguments: list[str]) -> int:
    if "--check" in arguments:
        written = re.search(r"^GRAMMAR_DIGEST = '(\w+)'$", TABLES.read_text(encoding="utf-8"), re.M)
        current = written is not None and \
            written.group(1) == grammar_digest(GRAMMAR.read_text(encoding="utf-8"))
        print("parse tables are current" if current else
              "parse tables are stale: run .venv/bin/python tools/make_parse_tables.py")
        return 0 if current else 1
    text = tables_text()
    TABLES.write_text(text, encoding="utf-8")
    print(f"wrote {TABLES.relative_to(ROOT)} ({len(text):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
