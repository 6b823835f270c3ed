"""E-mail (.eml, one message; .mbox, many) to text: subject, from, to, date and the text body
(an HTML-only body as its visible text), and the attachments, for indexing on their own."""

from __future__ import annotations

import codecs
import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from ..errors import DocumentError
from ..settings import DEFAULT_UNPACK_LIMITS
from .chunking import MAX_SECTIONS, SECTION_CHARS
from .html import html_text
from .textbuild import Built, TextBuilder, decode_text, looks_binary, one_line

__all__ = ["Attachment", "eml_text", "max_attachments", "mbox_text"]

_MBOX_FROM = re.compile(rb"^From [^\r\n]*\r?\n", re.MULTILINE)
_MBOXRD_ESCAPE = re.compile(rb"^>(>*From )", re.MULTILINE)
_HEADERS = ("Subject", "From", "To", "Cc", "Date")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to a message: its name (as sent) and its bytes."""

    name: str
    data: bytes


def eml_text(
    data: bytes, source: str, most_attachments: int | None = None
) -> tuple[Built, list[Attachment]]:
    """One message: a header block, then its body; one locator for the whole message, an
    e-mail header summary such as 'e-mail “Q3 numbers” from Ann Lee, 2026-03-02'.
    DocumentError when it has more than most_attachments attachments (None: any number).

    Example: b"Subject: Hi\\nFrom: Ann <a@x.org>\\n\\nSee you." ->
             Built("Subject: Hi\\nFrom: Ann <a@x.org>\\n\\nSee you.",
                   locators=((0, "e-mail “Hi” from Ann"),), sections=((0, ("Hi",)),))
    """
    if looks_binary(data):
        raise DocumentError(_not_mail(source, "message"))
    message = _parse(data)
    if not message.keys():
        raise DocumentError(_not_mail(source, "message"))
    builder = TextBuilder()
    left = _AttachmentsLeft(source, len(data), most_attachments)
    attachments = _add_message(builder, message, source, "", left)
    return builder.build(), attachments


def mbox_text(
    data: bytes, source: str, most_attachments: int | None = None
) -> tuple[Built, list[Attachment]]:
    """Every message of a mailbox in order, each its own section, with locators
    "message N: e-mail “Subject” from Sender, date". most_attachments: as for eml_text, the
    mailbox's messages together."""
    if looks_binary(data) or not data.startswith(b"From "):
        raise DocumentError(_not_mail(source, "mailbox (mbox)"))
    builder = TextBuilder()
    attachments: list[Attachment] = []
    left = _AttachmentsLeft(source, len(data), most_attachments)
    separators = list(_MBOX_FROM.finditer(data))
    if not separators:  # "From " and no whole separator line: a file cut short
        raise DocumentError(_not_mail(source, "mailbox (mbox)"))
    most = max(MAX_SECTIONS, len(data) // SECTION_CHARS)
    if len(separators) > most:
        # Each message is a section, and a document of too many is refused once read
        # (chunking.section_problem): a 1.5 MB mailbox of 20,000 one-line messages took 25 s
        # to read first, and 20 MB would take minutes. Its messages are counted at once.
        raise DocumentError(
            f"{source} has {len(separators):,} messages in {len(data):,} bytes (each is a "
            f"section of its own), and a document may have {MAX_SECTIONS:,} sections or one "
            f"per {SECTION_CHARS} characters: split the mailbox into several files"
        )
    starts = [m.end() for m in separators]
    ends = [*(m.start() for m in separators[1:]), len(data)]
    for number, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
        raw = _MBOXRD_ESCAPE.sub(rb"\1", data[start:end])
        message = _parse(raw)
        attachments.extend(_add_message(builder, message, source, f"message {number}: ", left))
    return builder.build(), attachments


def _not_mail(source: str, what: str) -> str:
    return f"{source} is not an e-mail {what}: export it again from the mail program"


# The standard library's header parser takes time that grows with the square of a header's
# length: 70 KB of "To: a@b.c, ..." took 7 s, a few MB would take hours. A real header is
# far shorter; one past this is read from its beginning (the rest would not be indexed).
_MAX_HEADER_CHARS = 8192


# What the standard library's e-mail parser raises, when a header is read, for a parameter
# in a charset it cannot decode ("filename*=punycode''a.txt": it decodes with the
# "surrogateescape" handler, which punycode, idna and utf-16 lack) or does not know.
_UNREADABLE = (UnicodeError, LookupError)


class _BoundedHeaders(policy.EmailPolicy):
    """policy.default, except that a header is parsed from its first _MAX_HEADER_CHARS, and
    one that cannot be decoded (_UNREADABLE) is its raw text, as the older API reads every
    header: "Content-Type: text/plain; name*=punycode''a.txt" raised UnicodeError as the
    message was parsed, which stopped every sync of the folder, and the web chat's start,
    while the file was in it."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        if hasattr(value, "name"):  # parsed already
            return super().header_fetch_parse(name, value)
        return _parsed_header(self, name, value[:_MAX_HEADER_CHARS])


# The message API parses a header anew at each read, and reading one message's body reads its
# Content-Type about ten times: 8 KB of parameters took 0.04 s a parse, 0.42 s a message.
# Parsed headers are immutable strings, so each distinct one is parsed once.
@functools.lru_cache(maxsize=64)
def _parsed_header(headers: _BoundedHeaders, name: str, value: str) -> str:
    try:
        return policy.EmailPolicy.header_fetch_parse(headers, name, value)
    except _UNREADABLE:
        # Bytes the parser kept as surrogates (not UTF-8) as U+FFFD, as it shows them.
        return str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


_POLICY = _BoundedHeaders()


def _parse(data: bytes) -> EmailMessage:
    # policy.default gives EmailMessage with decoded headers and get_body(); it never raises
    # on bad input, it records defects instead. Headers are parsed when read, each bounded.
    message = BytesParser(policy=_POLICY).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header so malformed that even the lenient parser gives up
        return ""
    return one_line(str(value)) if value is not None else ""


def _sender(message: Message) -> str:
    try:
        address = message.get("From")
        mailboxes = getattr(address, "addresses", ())
        if mailboxes:
            return mailboxes[0].display_name or mailboxes[0].addr_spec
    except Exception:  # unparseable address: the raw header below
        pass
    return _header(message, "From")


def _date(message: Message) -> str:
    try:
        when = getattr(message.get("Date"), "datetime", None)
    except Exception:
        when = None
    return when.date().isoformat() if when is not None else _header(message, "Date")


def _label(message: Message, prefix: str) -> str:
    subject = _header(message, "Subject") or "(no subject)"
    parts = [f"{prefix}e-mail “{subject}”"]
    sender = _sender(message)
    if sender:
        parts.append(f" from {sender}")
    date = _date(message)
    if date:
        parts.append(f", {date}")
    return "".join(parts)


class _AttachmentsLeft:
    """How many more attachments a file may have: each is indexed as a document of its own,
    at least one passage to embed however small, so a 480 KB e-mail of 8,000 one-line
    attachments was 8,000 documents (and a 1 MB one 16,000); the sections of one document
    are held to MAX_SECTIONS or one per SECTION_CHARS characters (chunking.section_problem),
    and a file's attachments likewise (max_attachments), counted no further than that."""

    def __init__(self, source: str, size: int, most: int | None) -> None:
        self.source, self.size, self.most = source, size, most
        self.left = most

    def take(self, attachments: Iterator[Attachment]) -> list[Attachment]:
        """The attachments, DocumentError (one sentence) past the file's allowance."""
        if self.left is None:
            return list(attachments)
        taken = list(itertools.islice(attachments, self.left + 1))
        if len(taken) > self.left:
            raise DocumentError(
                f"{self.source} has more than {self.most:,} attachments, the most an e-mail "
                f"of {self.size:,} bytes may have (each is indexed as a document of its own): "
                "save its attachments as files of their own, or split the mailbox"
            )
        self.left -= len(taken)
        return taken


def max_attachments(size: int, floor: int = DEFAULT_UNPACK_LIMITS.attachments_floor) -> int:
    """How many attachments an e-mail or mailbox of size bytes may have: floor
    (UnpackLimits.attachments_floor; none for a message attached to another), or one per
    SECTION_CHARS bytes.

    Example: max_attachments(480_000) -> 10000; max_attachments(5_000_000) -> 50000;
             max_attachments(4_000, floor=0) -> 40
    """
    return max(floor, size // SECTION_CHARS)


def _add_message(
    builder: TextBuilder,
    message: EmailMessage,
    source: str,
    prefix: str,
    left: _AttachmentsLeft,
) -> list[Attachment]:
    attachments = left.take(_attachments(message))
    lines = [f"{name}: {value}" for name in _HEADERS if (value := _header(message, name))]
    if attachments:
        lines.append("Attachments: " + ", ".join(a.name for a in attachments))
    label = _label(message, prefix)
    section = (_header(message, "Subject") or "(no subject)",)
    builder.add("\n".join(lines), locator=label, section=section)
    builder.add(_body(message, source), locator=label, section=section)
    return attachments


# Charsets whose decoder takes time that grows with the square of the text (Python's
# punycode, and idna, which uses it for "xn--" labels): a 400 KB body declared
# "charset=punycode" took 4.6 s to read (idna 7.6 s), 1.6 MB would take 75 s and a 20 MB
# upload hours, holding the indexer and every upload queued behind it. No mail program
# writes a body in them; such a body is decoded as an undeclared one.
_SLOW_CHARSETS = frozenset({"punycode", "idna"})


def _slow_charset(part: Message) -> bool:
    """Does part declare a charset of _SLOW_CHARSETS (under any of its names)?

    Example: a part "Content-Type: text/plain; charset=PUNYCODE" -> True; "utf-8" -> False
    """
    try:
        return codecs.lookup(part.get_content_charset() or "").name in _SLOW_CHARSETS
    except (LookupError, ValueError):
        return False


def _body(message: EmailMessage, source: str) -> str:
    """The plain-text body; else the HTML body's visible text; else ""."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
    except _UNREADABLE:  # a body part whose headers cannot be read (see _attachments)
        return ""
    if part is None:
        return ""
    try:
        if _slow_charset(part):
            raise LookupError("a charset read in quadratic time")
        content = part.get_content()
    except (LookupError, UnicodeError, TypeError):
        # An unknown or wrong charset, or one the library cannot read ("charset*=utf-8''x"
        # reaches the decoder as a tuple): decode it ourselves.
        payload = part.get_payload(decode=True)
        content = decode_text(payload) if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    try:
        html = part.get_content_type() == "text/html"
    except _UNREADABLE:
        html = False
    return html_text(content, source, title=False) if html else content


def _attachments(message: Message) -> Iterator[Attachment]:
    """Attached files, depth first; an attached message is one file (name.eml), not opened
    here (its own loading finds its attachments). A part whose headers cannot be read is
    passed over: an attachment named "filename*=punycode''a.txt" raised UnicodeError from
    the parser, which stopped every sync of the folder (and the web chat's start) while the
    e-mail was in it."""
    if not message.is_multipart():
        return
    for part in message.get_payload():
        if not isinstance(part, Message):
            continue
        try:
            found = _attachment(part)
        except _UNREADABLE:
            continue
        if isinstance(found, Attachment):
            yield found
        elif found is not None:
            yield from _attachments(found)


def _attachment(part: Message) -> Attachment | Message | None:
    """The file a part of a message holds, the part itself when it is multipart (its parts
    are read in turn), or None."""
    filename = part.get_filename()
    if part.get_content_type() == "message/rfc822":
        inner = part.get_payload()
        inner = inner[0] if isinstance(inner, list) and inner else inner
        if isinstance(inner, Message):
            name = filename or f"{_header(inner, 'Subject') or 'message'}.eml"
            return Attachment(_safe_name(name, ".eml"), inner.as_bytes())
        return None
    if part.is_multipart():
        return part
    if filename or part.get_content_disposition() == "attachment":
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            return Attachment(_safe_name(filename or "attachment", ""), payload)
    return None


def _safe_name(name: str, suffix: str) -> str:
    """A file name usable inside a source ("a/b.pdf" -> "a_b.pdf"), with `suffix` ensured."""
    name = one_line(name).replace("/", "_").replace("\\", "_").strip(". ") or "attachment"
    if suffix and not name.lower().endswith(suffix):
        name += suffix
    return name
