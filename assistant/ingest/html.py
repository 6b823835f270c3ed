"""HTML to the text a reader sees: visible text only, paragraphs and lines kept apart."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

from ..errors import DocumentError

__all__ = ["html_text"]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Elements whose content is never visible text.
_INVISIBLE = _words(
    """
    script style noscript template head svg canvas iframe object embed audio video map
    select button input textarea meta link base
    """
)
# Elements that stand apart as paragraphs (a blank line around them) or as lines.
_PARAGRAPH_TAGS = _words(
    """
    p h1 h2 h3 h4 h5 h6 pre blockquote table ul ol dl figure section article header
    footer nav aside main form address details hr fieldset
    """
)
_LINE_TAGS = _words("div li tr dt dd figcaption caption summary br option legend")
_CELL_TAGS = frozenset(("td", "th"))
_SPACE = re.compile(r"\s+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


class _TextWriter:
    """Collects visible text: spaces collapsed inside a line, lines and blank lines between
    blocks, so sentences read as they do on the page."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.line: list[str] = []
        self.pending_break = 0  # 1: newline, 2: blank line, before the next text
        self.pending_space = False

    def text(self, value: str, *, preformatted: bool = False) -> None:
        if preformatted:
            lines = value.split("\n")
            for i, line in enumerate(lines):
                if i:
                    self.newline(1)
                if line.strip():
                    self._write(line.rstrip())
            return
        collapsed = _SPACE.sub(" ", value)
        if collapsed.startswith(" "):
            self.pending_space = True
        words = collapsed.strip()
        if words:
            self._write(words)
        if collapsed.endswith(" "):
            self.pending_space = True

    def _write(self, words: str) -> None:
        if not self.line and self.parts and self.pending_break:
            self.parts.append("\n" * self.pending_break)
        elif self.line and self.pending_space:
            self.line.append(" ")
        self.pending_break = 0
        self.pending_space = False
        self.line.append(words)

    def separator(self, value: str) -> None:
        if self.line:
            self.line.append(value)
            self.pending_space = False

    def newline(self, level: int) -> None:
        if self.line:
            self.parts.append("".join(self.line).rstrip())
            self.line = []
        self.pending_break = max(self.pending_break, level)
        self.pending_space = False

    def result(self) -> str:
        self.newline(0)
        return "".join(self.parts).strip()


def _closed_markup(text: str) -> str:
    """text with each "<" that no later ">" closes, and each "<!--" that no later "-->"
    closes, written as "&lt;", which reads as the same text.

    Python's html.parser, at the end of a page, reads such an unclosed tag or comment as text
    one at a time, each time first searching the rest of the page for its end: a 50 KB page
    of "<a b" lines took 16 s to read, 200 KB of "<!--" 18 s, and a 20 MB upload would take
    days. Read as text anyway, they cost nothing written as "&lt;".

    Example: _closed_markup("<p>a</p><a b<!--") -> "<p>a</p>&lt;a b&lt;!--";
             _closed_markup("<!-- c --><!-- d") -> "<!-- c -->&lt;!-- d"
    """
    last = text.rfind(">") + 1
    head, tail = text[:last], text[last:].replace("<", "&lt;")
    closed = head.rfind("-->") + 3 if "-->" in head else 0
    if "<!--" in head[closed:]:
        head = head[:closed] + head[closed:].replace("<!--", "&lt;!--")
    return head + tail


def html_text(data: bytes | str, source: str, *, title: bool = True) -> str:
    """The visible text of an HTML page; the <title> first unless `title` is False or the
    body already starts with it.

    Example: b"<title>Hi</title><p>One.</p><script>x=1</script>" -> "Hi\n\nOne."
    """
    from bs4 import BeautifulSoup, UnicodeDammit  # imported here: only HTML needs it
    from bs4.element import NavigableString, PageElement, Tag

    try:
        with warnings.catch_warnings():
            # bs4 warns when markup looks like a URL or is XHTML; the text is wanted anyway.
            warnings.simplefilter("ignore")
            # Decoded as BeautifulSoup decodes it, to close its markup (_closed_markup).
            text = (
                data if isinstance(data, str) else UnicodeDammit(data, is_html=True).unicode_markup
            )
            soup = BeautifulSoup(_closed_markup(text) if text is not None else data, "html.parser")
    except Exception as exc:  # html.parser is lenient; this is a last resort
        raise DocumentError(
            f"{source} could not be parsed as HTML: re-save it or remove it from the folder"
        ) from exc

    writer = _TextWriter()
    title_tag = soup.find("title") if title else None
    heading = _SPACE.sub(" ", title_tag.get_text()).strip() if title_tag else ""

    def visible(tag: Tag) -> bool:
        if tag.name in _INVISIBLE or tag.has_attr("hidden"):
            return False
        if str(tag.get("aria-hidden", "")).lower() == "true":
            return False
        return not _HIDDEN_STYLE.search(str(tag.get("style", "")))

    def walk(root: Tag) -> None:
        # An explicit stack rather than recursion: a page nested thousands of tags deep
        # (generated markup, or a hostile file) is read, not a RecursionError.
        # Each entry: the children still to read, inside <pre>?, the break to write after.
        stack: list[tuple[Iterator[PageElement], bool, int]] = [(iter(root.children), False, 0)]
        while stack:
            children, preformatted, _after = stack[-1]
            child = next(children, None)
            if child is None:
                level = stack.pop()[2]
                if level:
                    writer.newline(level)
            elif isinstance(child, Tag):
                if not visible(child):
                    continue
                name = child.name
                level = 2 if name in _PARAGRAPH_TAGS else 1 if name in _LINE_TAGS else 0
                if level:
                    writer.newline(level)
                elif name in _CELL_TAGS:
                    writer.separator(" | ")
                stack.append((iter(child.children), preformatted or name == "pre", level))
            # Comments, doctypes and CDATA are NavigableString subclasses: not visible text.
            elif type(child) is NavigableString:
                writer.text(str(child), preformatted=preformatted)

    walk(soup)
    body = writer.result()
    if heading and not body.startswith(heading):
        return f"{heading}\n\n{body}" if body else heading
    return body
