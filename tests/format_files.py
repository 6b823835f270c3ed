"""Small files of each supported office, mail and e-book format, written by the tests with
the formats' own libraries (nothing binary is committed). Each holds facts a question can
ask about, and the helpers return the bytes so a test can also break or encrypt them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

__all__ = [
    "CSV_TEXT",
    "docx_bytes",
    "eml_bytes",
    "encrypt_office",
    "epub_bytes",
    "mbox_bytes",
    "pptx_bytes",
    "scanned_pdf_bytes",
    "text_pdf_bytes",
    "xlsx_bytes",
]


def docx_bytes() -> bytes:
    """An intro paragraph, Heading 1 "Warranty" > Heading 2 "Repairs" with a fact, a table
    with a header row, and a paragraph after it."""
    import docx

    document = docx.Document()
    document.add_paragraph("This handbook covers the Falcon e-scooter.")
    document.add_heading("Warranty", level=1)
    document.add_paragraph("The warranty covers the frame and the battery.")
    document.add_heading("Repairs", level=2)
    document.add_paragraph(
        "Repairs under the warranty are free for the first 24 months after purchase."
    )
    table = document.add_table(rows=3, cols=2)
    for r, (part, years) in enumerate([("Part", "Years"), ("Frame", "10"), ("Battery", "2")]):
        table.cell(r, 0).text = part
        table.cell(r, 1).text = years
    document.add_heading("Returns", level=1)
    document.add_paragraph("Unused scooters can be returned within 30 days.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx_bytes() -> bytes:
    """Three slides: a title slide, "Launch plan" with a fact, and "Trade fair" whose fact is
    only in the speaker notes."""
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    title_layout, content_layout = presentation.slide_layouts[0], presentation.slide_layouts[1]
    slide = presentation.slides.add_slide(title_layout)
    slide.shapes.title.text = "Falcon launch"
    slide.placeholders[1].text = "Product team briefing"
    slide = presentation.slides.add_slide(content_layout)
    slide.shapes.title.text = "Launch plan"
    slide.placeholders[1].text = "The Falcon scooter launches in Lisbon on 14 May 2027."
    slide = presentation.slides.add_slide(content_layout)
    slide.shapes.title.text = "Trade fair"
    slide.placeholders[1].text = "Stand design is ready."
    box = slide.shapes.add_textbox(Inches(1), Inches(6), Inches(6), Inches(1))
    box.text_frame.text = "Contact: events team."
    slide.notes_slide.notes_text_frame.text = (
        "Remind everyone that our booth number at the trade fair is 417."
    )
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    """Sheet "Sales": a title row, a blank row, a header row (row 3) and quarterly totals
    with number formats; sheet "Notes": one line of text."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sales"
    sheet.append(["Quarterly sales report"])
    sheet.append([])
    sheet.append(["Region", "Quarter", "Total", "Margin", "Closed"])
    rows = [
        ("Berlin", "Q2", 1100, 0.18, datetime(2026, 6, 30)),
        ("Berlin", "Q3", 1250, 0.215, datetime(2026, 9, 30)),
        ("Munich", "Q3", 980, 0.2, datetime(2026, 9, 30)),
        ("Hamburg", "Q3", 1720, 0.25, datetime(2026, 9, 30)),
    ]
    for row in rows:
        sheet.append(list(row))
        r = sheet.max_row
        sheet.cell(r, 3).number_format = "#,##0"
        sheet.cell(r, 4).number_format = "0.0%"
        sheet.cell(r, 5).number_format = "yyyy-mm-dd"
    notes = workbook.create_sheet("Notes")
    notes.append(["Figures are in thousands of euros."])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def encrypt_office(data: bytes, password: str = "secret") -> bytes:
    """An Office Open XML file encrypted as Office does it (msoffcrypto-tool)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(password, out)
    return out.getvalue()


CSV_TEXT = (
    "Station;Line;Opened;Notes\r\n"
    "Harbour Gate;Blue;1998;Rebuilt in 2015\r\n"
    'Old Mill;Green;2004;"Step-free access,\nlifts on both platforms"\r\n'
    "\r\n"
    "Castle Hill;Red;1987;\r\n"
)


def _message(
    subject: str, sender: str, when: datetime, body: str, *, html: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = "Team <team@example.com>"
    message["Date"] = format_datetime(when)
    if html is None:
        message.set_content(body)
    else:
        message.set_content(html, subtype="html")
    return message


def eml_bytes(
    attachments: Sequence[tuple[str, bytes]] = (),
    *,
    html: bool = False,
) -> bytes:
    """A message from Ann Lee about the office move, with the given attachments."""
    body = "Hello all,\n\nThe Bristol office moves to 12 Quay Street on 3 August.\n\nAnn\n"
    page = (
        "<html><head><title>Move</title><style>p{}</style></head><body>"
        "<p>Hello all,</p><p>The Bristol office moves to <b>12 Quay Street</b> on 3 August."
        "</p></body></html>"
    )
    message = _message(
        "Office move",
        "Ann Lee <ann@example.com>",
        datetime(2026, 7, 1, 9, 30, tzinfo=UTC),
        body,
        html=page if html else None,
    )
    for name, data in attachments:
        maintype, subtype = (
            ("text", "plain") if name.endswith(".txt") else ("application", "octet-stream")
        )
        if maintype == "text":
            message.add_attachment(data.decode("utf-8"), subtype=subtype, filename=name)
        else:
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return bytes(message)


def mbox_bytes() -> bytes:
    """Two messages; the second (from Bo Chen) holds the fact; a body line starting with
    "From " is escaped as mbox does."""
    first = _message(
        "Lunch",
        "Ann Lee <ann@example.com>",
        datetime(2026, 7, 2, 12, 0, tzinfo=UTC),
        "Lunch is at noon in the canteen.\nFrom now on, Fridays are pizza days.\n",
    )
    second = _message(
        "Server maintenance",
        "Bo Chen <bo@example.com>",
        datetime(2026, 7, 3, 8, 15, tzinfo=UTC),
        "The mail server will be offline for maintenance on Saturday from 22:00 to 23:30.\n",
    )
    out = bytearray()
    for message, sender in ((first, "ann@example.com"), (second, "bo@example.com")):
        raw = bytes(message).replace(b"\nFrom ", b"\n>From ")
        out += b"From " + sender.encode() + b" Thu Jul  2 12:00:00 2026\n" + raw
        if not raw.endswith(b"\n"):
            out += b"\n"
        out += b"\n"
    return bytes(out)


def epub_bytes(*, drm: bool = False) -> bytes:
    """A two-chapter EPUB 3 whose manifest lists the chapters in the opposite order to the
    spine (reading order must come from the spine), with a cover page without text."""
    chapter = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>The Keeper</title></head>'
        "<body><h1>{title}</h1><p>{text}</p></body></html>"
    )
    files = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": (
            '<?xml version="1.0"?><container version="1.0" '
            'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
            "</rootfiles></container>"
        ),
        "OEBPS/content.opf": (
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
            "<metadata/><manifest>"
            '<item id="c2" href="text/ch2.xhtml" media-type="application/xhtml+xml"/>'
            '<item id="c1" href="text/ch1.xhtml" media-type="application/xhtml+xml"/>'
            '<item id="cover" href="text/cover.xhtml" media-type="application/xhtml+xml"/>'
            '</manifest><spine><itemref idref="cover"/><itemref idref="c1"/>'
            '<itemref idref="c2"/></spine></package>'
        ),
        "OEBPS/text/cover.xhtml": (
            '<html xmlns="http://www.w3.org/1999/xhtml"><body><img src="c.png"/></body></html>'
        ),
        "OEBPS/text/ch1.xhtml": chapter.format(
            title="The Storm", text="The storm reached the island on a Tuesday in October."
        ),
        "OEBPS/text/ch2.xhtml": chapter.format(
            title="The Lighthouse",
            text="The lighthouse keeper lit the lamp at exactly nine o'clock every night.",
        ),
    }
    if drm:
        files["META-INF/encryption.xml"] = (
            '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
            'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>'
            '<enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>'
            '<enc:CipherData><enc:CipherReference URI="OEBPS/text/ch1.xhtml"/></enc:CipherData>'
            "</enc:EncryptedData></encryption>"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        for name, text in files.items():
            book.writestr(name, text)
    return buffer.getvalue()


def epub_edited(edits: dict[str, Callable[[bytes], bytes]]) -> bytes:
    """The test book (epub_bytes) with each member whose name ends in a key of edits
    rewritten by its function (and compressed: a hostile book is small on the wire)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(epub_bytes())) as book,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy,
    ):
        for item in book.infolist():
            data = book.read(item)
            edited = [edit for ending, edit in edits.items() if item.filename.endswith(ending)]
            for edit in edited:
                data = edit(data)
            copy.writestr(item, data, zipfile.ZIP_DEFLATED if edited else item.compress_type)
    return out.getvalue()


def scanned_pdf_bytes(pages: list[str]) -> bytes:
    """A PDF whose pages are only pictures of text (as a scanner makes): Pillow draws each
    page's lines in DejaVu Sans (Pillow's own font if that is missing) and saves the images
    as a PDF, which has no text layer."""
    from PIL import Image, ImageDraw, ImageFont

    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 36)
    except OSError:
        font = ImageFont.load_default(size=36)
    images = []
    for text in pages:
        image = Image.new("L", (1275, 1650), 255)  # US Letter at 150 dpi
        draw = ImageDraw.Draw(image)
        for i, line in enumerate(text.split("\n")):
            draw.text((120, 150 + 60 * i), line, fill=0, font=font)
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=150, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def text_pdf_bytes(pages: list[str]) -> bytes:
    """A minimal valid PDF: one Helvetica text line per page, with a correct xref table."""
    n = len(pages)
    font = 3 + 2 * n
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n} >>".encode(),
    ]
    for i, text in enumerate(pages):
        stream = f"BT /F1 12 Tf 72 712 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {4 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return pdf_from_objects(objects)


def pdf_from_objects(objects: list[bytes]) -> bytes:
    """A PDF file of the given object bodies, numbered from 1 (1 is the catalogue), with its
    cross-reference table and trailer."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
