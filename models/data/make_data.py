#!/usr/bin/env python3
"""Generate the small example data sets shipped with bptui in models/data/.

Run from anywhere:

    python3 models/data/make_data.py

Every CSV next to this script is rewritten. The output is byte-for-byte
reproducible: each file pair draws from its own ``random.Random(seed)``
instance (global random state is never used), real numbers are rounded
before any label is computed from them, and all cells are written with
fixed formatting.

CSV format (all files)
----------------------
No header, one example per row, the LABEL FIRST, then the features,
comma separated, '\\n' line endings, trailing newline at end of file.
Integer cells (labels, pixels) are written as integers; real features are
written with 2 decimals, trailing zeros dropped (``0.53``, ``-1.2``,
``1.0``).

Files
-----
two_layer_train.csv (16 rows), two_layer_test.csv (8 rows)
    label 0/1, then 3 real features x1, x2, x3 drawn uniformly from
    [-2, 2]. Rule: label = 1 when x1*x2 + 0.5*x3 > 0, and about 6% of labels
    are then flipped (label noise). The product term makes the problem
    nonlinear, so a one-hidden-layer network has something to learn.
    Classes are balanced before the noise is applied.

logistic_train.csv (20 rows), logistic_test.csv (10 rows)
    label 0/1, then 2 real features. Each class is a Gaussian blob
    (std 0.8): class 0 around (-0.8, -0.6), class 1 around (0.8, 0.6).
    Roughly linearly separable with some overlap, which is what logistic
    regression is meant for. Classes are balanced.

two_hidden_train.csv (48 rows), two_hidden_test.csv (24 rows)
    label 0/1, then 4 real features x1..x4 drawn uniformly from [-2, 2].
    Rule (no noise): label = 1 when both "x1 + x2 > 0" and "x3 - x4 > 0"
    hold (the intersection of two half-planes: no single linear unit
    separates it, hidden units do), and models/two_hidden.yaml learns it
    within its epochs, so the loss chart visibly falls. Classes are balanced.

ocr_letters_train.csv (300 rows), ocr_letters_test.csv (100 rows)
    The course homework's letter format: label 0-9 standing for the letters
    a, e, g, i, l, n, o, r, t, u (in that order), then 128 binary pixels
    (0/1) of a 16-row x 8-column image in row-major order. Each letter is
    drawn below as 16x8 ASCII art ('#' = 1, '.' = 0). Every example is a
    variant of its glyph: with probability 0.2 the strokes are thickened
    by one pixel to the right, then the image is shifted by -1, 0 or +1
    pixel horizontally and vertically (pixels pushed out of the box are
    lost, vacated pixels are 0), and finally each pixel is flipped with
    probability 0.03. Classes are balanced (30 per class in train, 10 in
    test) and rows are shuffled.

Run ``python3 make_data.py --show`` to print the 10 glyphs.
"""

import os
import random
import sys

OUT_DIR = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

def fmt_real(x):
    """Format a real number with at most 2 decimals, trailing zeros dropped."""
    s = f"{x:.2f}".rstrip("0")
    if s.endswith("."):
        s += "0"
    if s == "-0.0":
        s = "0.0"
    return s


def fmt_cell(v):
    return str(v) if isinstance(v, int) else fmt_real(v)


def write_csv(name, rows):
    """Write rows (label first, then features) to OUT_DIR/name."""
    path = os.path.join(OUT_DIR, name)
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for row in rows:
            f.write(",".join(fmt_cell(v) for v in row) + "\n")
    print(f"wrote {name}: {len(rows)} rows x {len(rows[0])} columns")


def r2(x):
    """Round to 2 decimals (the value written to disk); avoid -0.0."""
    return round(x, 2) + 0.0


# ---------------------------------------------------------------------------
# Small tabular sets
# ---------------------------------------------------------------------------

def balanced(rng, n, draw, rule):
    """Draw points until there are n/2 of each class; return (label, x) pairs.

    `draw(rng)` returns a feature list (already rounded), `rule(x)` its
    0/1 label. Points of a class that is already full are discarded.
    """
    want = {0: n // 2, 1: n - n // 2}
    rows = []
    while want[0] or want[1]:
        x = draw(rng)
        y = rule(x)
        if want[y]:
            want[y] -= 1
            rows.append([y] + x)
    rng.shuffle(rows)
    return rows


def flip_labels(rng, rows, p):
    for row in rows:
        if rng.random() < p:
            row[0] = 1 - row[0]
    return rows


def uniform_features(k, lo=-2.0, hi=2.0):
    return lambda rng: [r2(rng.uniform(lo, hi)) for _ in range(k)]


def make_two_layer(rng, n):
    rule = lambda x: int(x[0] * x[1] + 0.5 * x[2] > 0)
    rows = balanced(rng, n, uniform_features(3), rule)
    return flip_labels(rng, rows, 0.06)


def make_logistic(rng, n):
    centers = {0: (-0.8, -0.6), 1: (0.8, 0.6)}
    rows = []
    for i in range(n):
        y = i % 2
        cx, cy = centers[y]
        rows.append([y, r2(rng.gauss(cx, 0.8)), r2(rng.gauss(cy, 0.8))])
    rng.shuffle(rows)
    return rows


def make_two_hidden(rng, n):
    rule = lambda x: int(x[0] + x[1] > 0 and x[2] - x[3] > 0)
    return balanced(rng, n, uniform_features(4), rule)


# ---------------------------------------------------------------------------
# OCR letters
# ---------------------------------------------------------------------------

LETTERS = "aegilnortu"  # label i stands for LETTERS[i]
ROWS, COLS = 16, 8

# 16 rows x 8 columns each. Lowercase body on rows 5-12, ascenders from
# row 1, the descender of 'g' down to row 14; columns 1-6 are used so a
# one-pixel shift never pushes ink out of the box.
GLYPHS = {
    "a": """
        ........
        ........
        ........
        ........
        ........
        ..####..
        .#....#.
        ......#.
        ..#####.
        .#....#.
        .#....#.
        .#...##.
        ..###.#.
        ........
        ........
        ........
    """,
    "e": """
        ........
        ........
        ........
        ........
        ........
        ..####..
        .#....#.
        .#....#.
        .######.
        .#......
        .#......
        .#....#.
        ..####..
        ........
        ........
        ........
    """,
    "g": """
        ........
        ........
        ........
        ........
        ........
        ..#####.
        .#....#.
        .#....#.
        .#....#.
        .#...##.
        ..###.#.
        ......#.
        ......#.
        .#....#.
        ..####..
        ........
    """,
    "i": """
        ........
        ........
        ...##...
        ...##...
        ........
        ..###...
        ...##...
        ...##...
        ...##...
        ...##...
        ...##...
        ...##...
        .######.
        ........
        ........
        ........
    """,
    "l": """
        ........
        ..###...
        ...##...
        ...##...
        ...##...
        ...##...
        ...##...
        ...##...
        ...##...
        ...##...
        ...##...
        ...##.#.
        ....###.
        ........
        ........
        ........
    """,
    "n": """
        ........
        ........
        ........
        ........
        ........
        .#.###..
        .##...#.
        .#....#.
        .#....#.
        .#....#.
        .#....#.
        .#....#.
        .#....#.
        ........
        ........
        ........
    """,
    "o": """
        ........
        ........
        ........
        ........
        ........
        ..####..
        .#....#.
        .#....#.
        .#....#.
        .#....#.
        .#....#.
        .#....#.
        ..####..
        ........
        ........
        ........
    """,
    "r": """
        ........
        ........
        ........
        ........
        ........
        .#.###..
        .##...#.
        .#......
        .#......
        .#......
        .#......
        .#......
        .#......
        ........
        ........
        ........
    """,
    "t": """
        ........
        ........
        ...#....
        ...#....
        ...#....
        .######.
        ...#....
        ...#....
        ...#....
        ...#....
        ...#....
        ...#..#.
        ....##..
        ........
        ........
        ........
    """,
    "u": """
        ........
        ........
        ........
        ........
        ........
        .#....#.
        .#....#.
        .#....#.
        .#....#.
        .#....#.
        .#....#.
        .#...##.
        ..###.#.
        ........
        ........
        ........
    """,
}


def parse_glyph(art):
    """Turn ASCII art into a ROWS x COLS list of 0/1 lists."""
    lines = [line.strip() for line in art.strip().splitlines()]
    assert len(lines) == ROWS and all(len(l) == COLS for l in lines), lines
    return [[1 if ch == "#" else 0 for ch in line] for line in lines]


BITMAPS = [parse_glyph(GLYPHS[ch]) for ch in LETTERS]


def thicken(img):
    """Add one pixel of ink to the right of every inked pixel."""
    return [[img[r][c] | (c > 0 and img[r][c - 1])
             for c in range(COLS)] for r in range(ROWS)]


def shift(img, dy, dx):
    """Move the image down by dy and right by dx, filling with 0."""
    out = [[0] * COLS for _ in range(ROWS)]
    for r in range(ROWS):
        for c in range(COLS):
            rr, cc = r + dy, c + dx
            if 0 <= rr < ROWS and 0 <= cc < COLS:
                out[rr][cc] = img[r][c]
    return out


def variant(rng, img, p_thicken=0.2, p_flip=0.03):
    if rng.random() < p_thicken:
        img = thicken(img)
    img = shift(img, rng.randint(-1, 1), rng.randint(-1, 1))
    return [[px ^ (rng.random() < p_flip) for px in row] for row in img]


def make_ocr(rng, per_class):
    rows = []
    for label, glyph in enumerate(BITMAPS):
        for _ in range(per_class):
            img = variant(rng, glyph)
            rows.append([label] + [int(px) for row in img for px in row])
    rng.shuffle(rows)
    return rows


def show_glyphs():
    for r in range(ROWS):
        print("  ".join("".join("#" if px else "." for px in bm[r])
                        for bm in BITMAPS))
    print("  ".join(f"{ch:^8}" for ch in LETTERS))


# ---------------------------------------------------------------------------

def main():
    if "--show" in sys.argv[1:]:
        show_glyphs()
        return
    # One generator per file so that changing one set leaves the others alone.
    write_csv("two_layer_train.csv", make_two_layer(random.Random(101), 16))
    write_csv("two_layer_test.csv", make_two_layer(random.Random(102), 8))
    write_csv("logistic_train.csv", make_logistic(random.Random(201), 20))
    write_csv("logistic_test.csv", make_logistic(random.Random(202), 10))
    write_csv("two_hidden_train.csv", make_two_hidden(random.Random(301), 48))
    write_csv("two_hidden_test.csv", make_two_hidden(random.Random(302), 24))
    write_csv("ocr_letters_train.csv", make_ocr(random.Random(401), 30))
    write_csv("ocr_letters_test.csv", make_ocr(random.Random(402), 10))


if __name__ == "__main__":
    main()
