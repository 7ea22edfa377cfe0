"""Parsing untrusted XMILE text safely: defusedxml, a size limit, and line numbers.

- DTD entity declarations and external references are refused (defusedxml), so an entity
  bomb or an ``<!ENTITY x SYSTEM "file:///...">`` never expands;
- files larger than :data:`MAX_XMILE_BYTES` are refused before parsing;
- prefixes that a file uses without declaring them (Vensim's exporter writes ``isee:prefs``
  with no ``xmlns:isee``) are declared, so such files still load;
- every element remembers the line it starts on, for error messages.

Element tags come back without the XMILE namespace (``stock``, not ``{http://...}stock``);
elements of other namespaces (vendor extensions such as ``isee:``) keep ``{ns}tag``.
"""

from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from flywheel_sim.errors import ModelError
from flywheel_sim.io.paths import read_bytes

MAX_XMILE_BYTES = 20_000_000
XMILE_NAMESPACES = frozenset(
    {
        "http://docs.oasis-open.org/xmile/ns/XMILE/v1.0",
        "http://www.systemdynamics.org/XMILE",
        "",
    }
)
FLYWHEEL_NS = "https://flywheel-sim.org/xmile/v1"
_PREFIX_USE = re.compile(
    r"</?([A-Za-z_][\w.-]*):[A-Za-z_]|\s([A-Za-z_][\w.-]*):[A-Za-z_][\w.-]*\s*="
)
_PREFIX_DECL = re.compile(r"xmlns:([A-Za-z_][\w.-]*)\s*=")
_ROOT = re.compile(r"<xmile\b")
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE)
# Python codecs that are not character sets of text files (one raises on every call, one is
# quadratic); an XML declaration naming one is an unknown encoding
_NOT_CHARSETS = frozenset({"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape"})


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed file: the root element and the line each element starts on."""

    root: ET.Element
    lines: dict[int, int]
    file: str | None
    namespace: str = ""  # the root element's namespace ("" when it declares none)

    def line(self, element: ET.Element) -> int | None:
        return self.lines.get(id(element))

    def error(
        self,
        message: str,
        element: ET.Element | None = None,
        *,
        variable: str | None = None,
        hint: str | None = None,
    ) -> ModelError:
        line = self.line(element) if element is not None else None
        return ModelError(message, file=self.file, line=line, variable=variable, hint=hint)


class _Builder(ET.TreeBuilder):
    """A tree builder that records each element's line and strips the XMILE namespace."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[int, int] = {}
        self.expat: Any = None
        self.open: list[ET.Element] = []
        self.namespace: str | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        if self.namespace is None:  # the root element
            self.namespace = tag[1:].partition("}")[0] if tag.startswith("{") else ""
        element = super().start(_local(tag), {_local(k): v for k, v in attrs.items()})
        if self.expat is not None:
            self.lines[id(element)] = int(self.expat.CurrentLineNumber)
        self.open.append(element)
        return element

    def end(self, tag: str) -> ET.Element:
        if self.open:
            self.open.pop()
        return super().end(_local(tag))

    def unclosed(self) -> str:
        """The innermost element still open, described for an error message."""
        if not self.open:
            return ""
        element = self.open[-1]
        name = element.get("name")
        label = f'<{element.tag} name="{name}">' if name else f"<{element.tag}>"
        return f"; {label} opened at line {self.lines.get(id(element), '?')} is not closed"


def _local(tag: str) -> str:
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        if ns in XMILE_NAMESPACES:
            return name
    return tag


def declare_prefixes(text: str) -> str:
    """Declare namespace prefixes the text uses but never declares (on the root element)."""
    used = {a or b for a, b in _PREFIX_USE.findall(text)} - {"xml", "xmlns"}
    missing = sorted(used - set(_PREFIX_DECL.findall(text)))
    if not missing:
        return text
    decls = "".join(f' xmlns:{p}="urn:undeclared:{p}"' for p in missing)
    match = _ROOT.search(text)
    if match is None:
        return text
    return text[: match.end()] + decls + text[match.end() :]


def _decode(data: bytes, file: str | None) -> str:
    """Bytes to text: the encoding the XML declaration names, else UTF-8."""
    declared = re.match(rb"\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']", data)
    encoding = declared.group(1).decode("ascii") if declared else "UTF-8"
    utf8 = encoding.lower().replace("_", "-") in ("utf-8", "utf8")
    try:
        if codecs.lookup(encoding).name in _NOT_CHARSETS:
            raise LookupError(encoding)
        return data.decode("utf-8-sig" if utf8 else encoding)
    except LookupError:
        raise ModelError(
            f"XMILE file declares unknown encoding '{encoding}'", file=file, hint="save it as UTF-8"
        ) from None
    except (UnicodeError, ValueError, TypeError):  # a codec that is not one ("undefined")
        said = f"text in the encoding it declares ('{encoding}')" if declared else "UTF-8 text"
        raise ModelError(
            f"XMILE file is not {said}",
            file=file,
            hint="save it as UTF-8",
        ) from None


def parse_xml(data: str | bytes, file: str | None = None) -> Document:
    """Parse XMILE text (str or bytes) into a Document; ModelError for anything malformed
    or unsafe."""
    if len(data) > MAX_XMILE_BYTES:
        raise ModelError(
            f"XMILE file is larger than {MAX_XMILE_BYTES} bytes",
            file=file,
            hint="split the model or raise flywheel_sim.io.xmile.xml.MAX_XMILE_BYTES",
        )
    if isinstance(data, bytes) and not data.lstrip().startswith((b"<", *_BOMS)):
        raise ModelError(
            "not an XMILE file: it is not XML text (Stella 9 and earlier save a binary format)",
            file=file,
            hint="open it in Stella 10 or later and save it again as XMILE 1.0 (.stmx)",
        )
    text = data if isinstance(data, str) else _decode(data, file)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)  # the text is already decoded
    text = declare_prefixes(text)
    builder = _Builder()
    parser = DefusedXMLParser(
        target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True
    )
    builder.expat = parser.parser
    try:
        parser.feed(text)
        root = parser.close()
    except DefusedXmlException as exc:
        raise ModelError(
            f"XMILE file declares XML entities or external references ({type(exc).__name__}); "
            "refused for safety",
            file=file,
            hint="remove the <!DOCTYPE ...> entity declarations",
        ) from None
    except ET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        message = str(exc).split(":")[0]
        detail = builder.unclosed() if message == "mismatched tag" else ""
        raise ModelError(f"malformed XML: {message}{detail}", file=file, line=line) from None
    if not isinstance(root, ET.Element) or root.tag != "xmile":
        raise ModelError(
            f"not an XMILE file: the root element is <{getattr(root, 'tag', '?')}>, not <xmile>",
            file=file,
        )
    return Document(root, builder.lines, file, builder.namespace or "")


def open_resource(doc: Document, resource: str, node: ET.Element) -> Document:
    """The XMILE file a ``<module resource="...">`` names, read as safely as the first.

    Only a relative path to a file in the model's folder (or below it) is accepted, so a
    model cannot make the reader open arbitrary files."""
    if doc.file is None:
        raise doc.error(
            f"module resource '{resource}' cannot be found: the model was not read from a file",
            node,
        )
    folder = Path(doc.file).parent
    data = read_bytes(
        resource,
        folder,
        what="module resource",
        file=doc.file,
        line=doc.line(node),
        limit=MAX_XMILE_BYTES,
    )
    return parse_xml(data, str(folder / resource))


__all__ = [
    "FLYWHEEL_NS",
    "MAX_XMILE_BYTES",
    "Document",
    "declare_prefixes",
    "open_resource",
    "parse_xml",
]
