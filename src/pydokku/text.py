"""Small checks on user-given text, written without regular expressions: compiling a pattern costs
more than these checks on every start-up of the CLI."""

from __future__ import annotations

ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Characters the shell (and shlex.quote) never needs to quote.
SHELL_SAFE = ASCII_ALNUM | frozenset("@%+=:,./-_")


def has_control_characters(text: str) -> bool:
    return any(c < " " or c == "\x7f" for c in text)


def only(text: str, allowed: frozenset[str]) -> bool:
    return allowed.issuperset(text)  # iterates the characters in C


def shell_quote(word: str) -> str:
    """`shlex.quote`, without importing shlex for words that need no quoting."""
    if word and only(word, SHELL_SAFE):
        return word
    import shlex

    return shlex.quote(word)


_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", "'": "\\'"}


def shown_word(word: str) -> str:
    """A word as one line shows it: as it is, unless it holds control characters, which are escaped as the
    shell would read them back (`$'a\\nb'`), so that no argument can forge a line of its own."""
    if not has_control_characters(word):
        return word
    escaped = "".join(_ESCAPES.get(c) or (f"\\x{ord(c):02x}" if c < " " or c == "\x7f" else c) for c in word)
    return f"$'{escaped}'"


def human_bytes(count: int) -> str:
    """`1536` → `1.5 KiB`: sizes as people read them."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def age_text(since: int, now: int) -> str:
    """How long ago `since` was, in epoch seconds: `3d 4h`, `2h 5m`, `7m`, `12s`."""
    elapsed = max(0, now - since)
    days, rest = divmod(elapsed, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d" * bool(days), f"{hours}h" * bool(hours), f"{minutes}m" * bool(minutes and not days)]
    return " ".join(part for part in parts if part) or f"{seconds}s"


def counted(number: int, noun: str) -> str:
    """`1 file`, `2 files`, `3 directories`: a number and its noun, plural when it is not 1."""
    if number == 1:
        return f"1 {noun}"
    return f"{number} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


def go_quote(text: str) -> str:
    """Go's `strconv.Quote`, as the docker CLI shows a command: double quotes, backslash escapes."""
    escapes = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
               "\\": "\\\\", '"': '\\"'}  # fmt: skip
    shown = "".join(escapes.get(c) or (f"\\x{ord(c):02x}" if c < " " or c == "\x7f" else c) for c in text)
    return f'"{shown}"'


def docker_time(epoch: float) -> str:
    """Go's `time.Time.String()` of a Unix time in this host's zone, as `docker container ls` shows
    CreatedAt: `2022-08-03 05:47:44 +0000 UTC`."""
    import datetime

    return datetime.datetime.fromtimestamp(int(epoch)).astimezone().strftime("%Y-%m-%d %H:%M:%S %z %Z")


def human_duration(seconds: float) -> str:
    """Docker's `units.HumanDuration` (`Less than a second`, `2 seconds`, `About a minute`, `3 hours`, …)."""
    whole, minutes, hours = int(seconds), int(seconds / 60), int(seconds / 3600 + 0.5)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"
