"""Render PDF pages as grey images for OCR, in a child process that pdf.py runs as a script
(so that a page pdfium would take minutes to draw can be stopped: a call into pdfium cannot be
interrupted in the process that made it).

The PDF comes on stdin; each argument is "index:scale" (a 0-based page, pixels per point).
Each page is written to stdout as a line "index length" and then `length` bytes of binary
PGM, or a length of 0 for a page pdfium cannot draw.

This file imports nothing of the assistant package: it runs as a plain script.
"""

from __future__ import annotations

import sys

__all__ = ["main", "pgm"]


def pgm(pixels: object) -> bytes:
    """A grey image as binary PGM, which tesseract (leptonica) reads from stdin; no Pillow.

    Example: pgm(numpy.zeros((2, 3), numpy.uint8)) -> b"P5\\n3 2\\n255\\n" + 6 zero bytes
    """
    import numpy as np

    grey = np.asarray(pixels, dtype=np.uint8)
    if grey.ndim == 3:  # (height, width, 1)
        grey = grey[:, :, 0]
    height, width = grey.shape
    return b"P5\n%d %d\n255\n" % (width, height) + np.ascontiguousarray(grey).tobytes()


def main(pages: list[str]) -> int:
    """Render each "index:scale" page of the PDF on stdin to stdout (see the module)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(sys.stdin.buffer.read())
    out = sys.stdout.buffer
    for arg in pages:
        index, scale = arg.split(":")
        try:
            page = pdf[int(index)]
            try:
                image = pgm(page.render(scale=float(scale), grayscale=True).to_numpy())
            finally:
                page.close()
        except Exception:  # the parent logs the page as one it could not render
            image = b""
        out.write(b"%d %d\n" % (int(index), len(image)))
        out.write(image)
        out.flush()
    pdf.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
