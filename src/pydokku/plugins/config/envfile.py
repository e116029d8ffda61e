"""What config:import reads: a dotenv file as godotenv (Dokku's reader) parses it, or a JSON object
(pure functions; config:export's formats are in export.py)."""

from __future__ import annotations

import json
import re


class UnreadableEnv(ValueError):
    """The text to import is not an envfile (or JSON object) of string values."""


# godotenv's variable reference: `$VAR` or `${VAR}` (upper-case names), `\$` escaping it.
_VARIABLE = re.compile(r"(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?")
_KEY_AND_SEPARATOR = re.compile(r"\s*(?:export\s+)?([^=:\s#]+)\s*[=:][ \t]*")


def parse_envfile(text: str) -> dict[str, str]:
    """A dotenv file as godotenv (Dokku's reader) parses it: `KEY=value` or `KEY: value` lines, an
    optional `export `, `#` comments, single quotes (literal), double quotes (escapes, may span lines)
    and `$VAR`/`${VAR}` references to the keys above, outside single quotes."""
    values: dict[str, str] = {}
    rest = text.replace("\r\n", "\n")
    while rest:
        line, _, after = rest.partition("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            rest = after
            continue
        found = _KEY_AND_SEPARATOR.match(rest)
        if found is None or "\n" in found.group(0):
            raise UnreadableEnv(f"unexpected line: {line.strip()!r} (expected KEY=VALUE)")
        key, rest = found.group(1), rest[found.end() :]
        values[key], rest = _value(rest, values)
    return values


def _value(text: str, known: dict[str, str]) -> tuple[str, str]:
    """A value at the start of `text` and what follows its line."""
    quote = text[:1]
    if quote in ("'", '"'):
        end = 1
        while True:
            end = text.find(quote, end)
            if end < 0:
                raise UnreadableEnv(f"a value opened with {quote} is never closed")
            if quote == "'" or not _escaped(text, end):
                break
            end += 1
        value, rest = text[1:end], text[end + 1 :].partition("\n")[2]
        if quote == "'":
            return value, rest
        unescaped = re.sub(r"\\([^$])", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), value)
        return _expand(unescaped, known), rest
    line, _, rest = text.partition("\n")
    line = re.split(r"\s#", line, maxsplit=1)[0]
    return _expand(line.strip(), known), rest


def _escaped(text: str, index: int) -> bool:
    backslashes = len(text[:index]) - len(text[:index].rstrip("\\"))
    return backslashes % 2 == 1


def _expand(value: str, known: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1) or match.group(3):
            return match.group(0)[1:]
        return known.get(match.group(4), "") if match.group(4) else match.group(0)

    return _VARIABLE.sub(replace, value)


def parse_json(text: str) -> dict[str, str]:
    """A JSON object whose values are strings (config:export --format json)."""
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as error:
        raise UnreadableEnv(f"not JSON: {error}") from error
    if not isinstance(loaded, dict) or not all(isinstance(value, str) for value in loaded.values()):
        raise UnreadableEnv("expected a JSON object of string values")
    return loaded
