"""Defusing a feed's DOCTYPE before feedparser sees it: no entity-expansion bombs, no external entities.

feedparser strips ENTITY declarations only when each starts its own line, so a one-line "billion
laughs" reaches expat, which expands it up to its amplification limit (about 80 MB and 2 s of CPU per
document here, times the fetch concurrency). So the prolog is read as XML reads it, not searched:

1. skip the BOM, whitespace, the XML declaration, comments and processing instructions (a comment
   such as ``<!-- <a -->`` is not the root element);
2. if a DOCTYPE comes next, read it to its end, honouring quoted strings, comments and processing
   instructions inside its internal subset (``<b>`` in an entity value or ``]>`` in a comment is not
   its end);
3. rewrite it as ``<!DOCTYPE name [kept]>``: the external id goes, and of the internal subset only
   simple internal entities are kept (a literal or one character reference, no markup, no other
   entity, no SYSTEM/PUBLIC, no parameter entity); every other declaration, whatever its content,
   and every parameter-entity reference is dropped.

A DOCTYPE that never ends is refused (UnsafeDocumentError), as is a UTF-16/32 document that declares
entities (it cannot be rewritten byte-wise; such feeds are vanishingly rare). A document without
``<!ENTITY`` anywhere is returned as it is.
"""

from __future__ import annotations

import re

_SAFE_ENTITY = re.compile(rb'<!ENTITY\s+[\w.-]+\s+(?:"(?:&#x?[0-9a-fA-F]+;|[^&%"<]{0,200})"|\'[^&%\'<]{0,200}\')\s*>')
_NAME = re.compile(rb"\s*([^\s\[>]+)")
_SPACE = frozenset(b" \t\r\n")
_BOM = b"\xef\xbb\xbf"


class UnsafeDocumentError(ValueError):
    pass


def _after(body: bytes, i: int, end: bytes) -> int:
    """The index after the next ``end`` from ``i``; refuse a construct that never ends."""
    j = body.find(end, i)
    if j < 0:
        raise UnsafeDocumentError(f"unterminated {end.decode()!r} construct in the DOCTYPE or prolog")
    return j + len(end)


def _skip_misc(body: bytes, i: int) -> int:
    """Past whitespace, comments and processing instructions (the XML declaration is one to this scan)."""
    while i < len(body):
        if body[i] in _SPACE:
            i += 1
        elif body.startswith(b"<!--", i):
            i = _after(body, i + 4, b"-->")
        elif body.startswith(b"<?", i):
            i = _after(body, i + 2, b"?>")
        else:
            break
    return i


def _declaration_end(body: bytes, i: int) -> int:
    """The index after the ``>`` closing the markup declaration at ``i``, quoted strings honoured."""
    j = i + 2
    while j < len(body):
        c = body[j : j + 1]
        if c in (b'"', b"'"):
            j = _after(body, j + 1, c)
        elif c == b">":
            return j + 1
        else:
            j += 1
    raise UnsafeDocumentError("unterminated declaration in the DOCTYPE")


def _subset(body: bytes, i: int) -> tuple[list[bytes], int]:
    """The markup declarations of the internal subset starting at ``i`` and the index after its ``]``."""
    decls: list[bytes] = []
    while True:
        i = _skip_misc(body, i)
        if i >= len(body):
            raise UnsafeDocumentError("unterminated DOCTYPE internal subset")
        if body[i : i + 1] == b"]":
            return decls, i + 1
        if body.startswith(b"<!", i):
            end = _declaration_end(body, i)
            decls.append(body[i:end])
            i = end
        elif body[i : i + 1] == b"%":  # a parameter-entity reference: dropped
            i = _after(body, i, b";")
        else:  # not XML; skip it, and nothing from here is kept but what is read as a declaration
            i += 1


def defuse_doctype(body: bytes) -> bytes:
    """The document with its DOCTYPE reduced to safe entity declarations (unchanged when it declares none)."""
    if b"<!ENTITY" not in body.replace(b"\x00", b""):
        return body
    if b"\x00" in body[:64]:
        raise UnsafeDocumentError("entity declarations in a UTF-16/32 document are refused")
    start = _skip_misc(body, len(_BOM) if body.startswith(_BOM) else 0)
    if not body[start : start + 9].upper() == b"<!DOCTYPE":
        return body  # the root element comes first: a later DOCTYPE is not well-formed and expat refuses it
    name = _NAME.match(body, start + 9)
    if name is None:
        raise UnsafeDocumentError("DOCTYPE without a name")
    i = name.end()
    kept: list[bytes] = []
    while True:  # the external id, if any, then the internal subset, then '>'
        if i >= len(body):
            raise UnsafeDocumentError("unterminated DOCTYPE")
        c = body[i : i + 1]
        if c in (b'"', b"'"):
            i = _after(body, i + 1, c)
        elif c == b"[":
            decls, i = _subset(body, i + 1)
            kept = [d for d in decls if _SAFE_ENTITY.fullmatch(d)]
        elif c == b">":
            i += 1
            break
        else:
            i += 1
    # each on a line of its own: feedparser keeps only a DOCTYPE and ENTITY declarations that start a line
    subset = b"".join(b"\n" + d for d in kept)
    doctype = b"\n<!DOCTYPE " + name.group(1) + (b" [" + subset + b"\n]" if kept else b"") + b">\n"
    return body[:start] + doctype + body[i:]
