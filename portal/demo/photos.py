"""Receipt photos of the demo's mystery visits: how they are drawn
(small generated pictures of a receipt lying on a table, each one different, which the
visits then clean and store as an upload would be).
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from portal.calendar import zone
from portal.demo.mystery_plan import Slot, ended_at


def receipt_picture(
    slot: Slot, attempt: int, font: ImageFont.ImageFont | ImageFont.FreeTypeFont
) -> bytes:
    """A phone photo of the receipt: a paper slip, a little turned, on a table."""
    rng = random.Random(f"{slot.store.code}:{slot.transaction_id}:{attempt}")
    issued = slot.receipt.issued_at if slot.receipt else ended_at(slot)
    total = slot.receipt.total_cents if slot.receipt else rng.randint(1500, 12000)
    lines = [
        "DEMO RETAIL  " + slot.store.code,
        f"{issued.astimezone(zone(slot.store.timezone)):%Y-%m-%d %H:%M}",
        slot.transaction_id,
        "-" * 26,
    ]
    shares = [rng.uniform(0.2, 1.2) for _ in range(rng.randint(1, 4))]
    for share in shares:
        cents = round(total * share / sum(shares))
        lines.append(f"{rng.randint(100000, 999999)}    {cents / 100:>8.2f}")
    lines += ["-" * 26, f"TOTAL CNY  {total / 100:>9.2f}", "THANK YOU"]
    # Grey paper, drawn small: a phone photo of a receipt, not a scan.
    paper = Image.new("L", (170, 30 + 14 * len(lines) + 40), 246)
    draw = ImageDraw.Draw(paper)
    for row, text in enumerate(lines):
        draw.text((10, 12 + 14 * row), text, fill=40, font=font)
    # A barcode, different on every receipt.
    x, top = 12, paper.height - 36
    while x < paper.width - 14:
        width = rng.choice((1, 1, 2, 3))
        draw.rectangle((x, top, x + width - 1, top + 24), fill=20)
        x += width + rng.choice((1, 2, 2, 3))
    angle = rng.uniform(-14, 14)
    turned = paper.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True)
    mask = Image.new("L", paper.size, 255).rotate(angle, expand=True)
    table = Image.new(
        "RGB", (270, 360), (rng.randint(90, 170), rng.randint(70, 130), rng.randint(40, 100))
    )
    offset = (
        rng.randint(0, max(0, table.width - turned.width)),
        rng.randint(0, max(0, table.height - turned.height)),
    )
    table.paste(turned.convert("RGB"), offset, mask)
    if slot.blurred:
        table = table.filter(ImageFilter.GaussianBlur(4))
    out = io.BytesIO()
    table.save(out, format="JPEG", quality=80)
    return out.getvalue()
