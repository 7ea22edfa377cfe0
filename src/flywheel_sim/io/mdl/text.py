"""The text of a Vensim ``.mdl`` file: its encoding, its sections and its records.

A file is the equations, then (after ``\\\\\\---///``) the sketch, then (after ``:L<%^E!@``)
the settings. The equations are records ``left = right ~ units ~ comment |``; a ``\\`` at the
end of a line continues it, ``{...}`` is a comment, ``****...~ title |`` starts a group, and
``:MACRO: NAME(args)`` ... ``:END OF MACRO:`` encloses a macro's records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flywheel_sim.errors import ModelError

SKETCH = re.compile(r"^[ \t]*\\{2,}---///", re.MULTILINE)  # Vensim writes \\\---///
# Vensim writes a DEL character after the L (":L\x7f<%^E!@"); hand-written files may not
SETTINGS = re.compile(r":L\x7f?<%\^E!@")
_QUOTED = re.compile(r'"(?:[^"\\\n]|\\.)*"', re.DOTALL)
_SPECIAL = re.compile(r'[|~"{]')
_TILDE_ETC = re.compile(r'[~"{]')
_CONTINUATION = re.compile(r"\\[ \t]*\r?\n[ \t]*")
# the header runs to the ')' closing its arguments, which may continue over lines (``\``)
_MACRO = re.compile(r":MACRO:[ \t]*(?P<head>[^()\n]*\([^()]*\)|[^\n]*)[ \t]*\n?", re.IGNORECASE)
_END_MACRO = re.compile(r":END OF MACRO:", re.IGNORECASE)
_UNDEFINED_1252 = frozenset((0x81, 0x8D, 0x8F, 0x90, 0x9D))
# the settings' integration codes: 0 Euler, 1 RK4, 2 difference equations (as Euler),
# 3 RK2, 4 RK2 with automatic step, 5 RK4 with automatic step
METHOD_CODES = {
    "0": "euler",
    "1": "rk4",
    "2": "euler",
    "3": "rk2",
    "4": "rk2 auto",
    "5": "rk4 auto",
}


@dataclass(frozen=True, slots=True)
class Record:
    """One equation record: its equation text, units, comment and first line."""

    equation: str
    units: str
    comment: str
    line: int
    macro: str = ""  # the header of the macro the record belongs to, "" outside macros


@dataclass
class Document:
    """A decoded ``.mdl`` file split into records, sketch and settings."""

    file: str | None
    records: list[Record] = field(default_factory=list)
    sketch: str = ""
    method: str = "euler"  # as the settings name it (see METHOD_CODES)
    macros: list[tuple[str, int]] = field(default_factory=list)  # header, line


def decode(data: bytes) -> str:
    """The file's text: UTF-8 when it says ``{UTF-8}`` (or is valid UTF-8), else Windows-1252
    (Vensim writes the system's code page), with Latin-1 for bytes 1252 leaves undefined."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.lstrip().startswith(b"{UTF-8}"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelError(f"the file says {{UTF-8}} but is not: {exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes 1252 leaves undefined: read as Latin-1
        return "".join(
            bytes([b]).decode("cp1252") if b not in _UNDEFINED_1252 else chr(b) for b in data
        )


def read_document(text: str, file: str | None = None) -> Document:
    """Split the text into records (with their line numbers), the sketch and the settings."""
    doc = Document(file)
    if text.lstrip().startswith("{UTF-8}"):
        start = text.index("{UTF-8}")
        text = text[:start] + " " * len("{UTF-8}") + text[start + len("{UTF-8}") :]
    found = SKETCH.search(text)
    cut = found.start() if found else -1
    equations = text if cut < 0 else text[:cut]
    if cut >= 0:
        rest = text[cut:]
        marker = SETTINGS.search(rest)
        at = marker.start() if marker else -1
        doc.sketch = rest if at < 0 else rest[:at]
        if at >= 0:
            doc.method = _method(rest[at:])
    _split_records(doc, equations)
    return doc


def _method(settings: str) -> str:
    """The integration method of the settings' line ``15:a,b,c,method,...``."""
    for line in settings.splitlines():
        if line.startswith("15:"):
            parts = line[3:].split(",")
            if len(parts) >= 4:
                return METHOD_CODES.get(parts[3].strip(), f"code {parts[3].strip()}")
    return "euler"


def _split_records(doc: Document, text: str) -> None:
    """Records end at ``|`` outside quotes; each has up to three ``~``-separated parts."""
    pos, line, n = 0, 1, len(text)
    macro = ""
    while pos < n:
        end = _record_end(text, pos)
        chunk = text[pos:end]
        first = line + _leading_newlines(chunk)
        line += chunk.count("\n")
        pos = end + 1
        body = chunk.strip()
        while body:  # macro markers before the record's own text
            marker = _END_MACRO.match(body) or _MACRO.match(body)
            if marker is None:
                break
            if marker.re is _MACRO:
                macro = " ".join(_CONTINUATION.sub(" ", marker.group("head")).split())
                doc.macros.append((macro, first))
            else:
                macro = ""
            rest = body[marker.end() :]
            first += body[: marker.end()].count("\n") + _leading_newlines(rest)
            body = rest.strip()
        if not body:
            continue
        parts = _split_tildes(body)
        equation = _CONTINUATION.sub(" ", parts[0]).strip()
        if equation.startswith("***"):
            continue  # a group marker (its title is the comment)
        units = " ".join(_CONTINUATION.sub(" ", parts[1]).split()) if len(parts) > 1 else ""
        # after the comment, a third ~ may give flags (:SUPPLEMENTARY): not part of it
        comment = parts[2].split("~", 1)[0] if len(parts) > 2 else ""
        comment = " ".join(_CONTINUATION.sub(" ", comment).split())
        doc.records.append(Record(equation, units, comment, first, macro))


def _leading_newlines(chunk: str) -> int:
    stripped = chunk.lstrip()
    return chunk[: len(chunk) - len(stripped)].count("\n")


def _record_end(text: str, pos: int) -> int:
    """The index of the ``|`` ending the record at ``pos`` (quotes and the equation's
    ``{comments}`` skipped), or the text's length."""
    n = len(text)
    tildes = 0
    while True:
        found = _SPECIAL.search(text, pos)
        if found is None:
            return n
        pos = found.start()
        char = text[pos]
        if char == "|":
            return pos
        if char == "~":
            tildes += 1
        elif char == '"' and tildes == 0:
            close = _closing_quote(text, pos)
            pos = close if close > 0 else pos
        elif char == "{" and tildes == 0:
            close = text.find("}", pos)
            pos = close if close > 0 else pos
        pos += 1


def _closing_quote(text: str, pos: int) -> int:
    """The index of the quote closing the quoted name at ``pos`` on the same line (a ``\\``
    escapes the next character, a line break too), or -1: then the quote is an ordinary
    character, as in comments."""
    found = _QUOTED.match(text, pos)
    return found.end() - 1 if found else -1


def _split_tildes(body: str) -> list[str]:
    """The equation, units and comment: the first two ``~`` outside quotes and comments."""
    parts: list[str] = []
    start = pos = 0
    while len(parts) < 2:
        found = _TILDE_ETC.search(body, pos)
        if found is None:
            break
        pos = found.start()
        char = body[pos]
        if char == '"':
            close = _closing_quote(body, pos)
            pos = close if close > 0 else pos
        elif char == "{":
            close = body.find("}", pos)
            pos = close if close > 0 else pos
        else:
            parts.append(body[start:pos])
            start = pos + 1
        pos += 1
    parts.append(body[start:])
    return parts
