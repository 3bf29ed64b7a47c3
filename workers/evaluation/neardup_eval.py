"""Near-duplicate fingerprints measured on syndicated copies and same-template strangers cut from the corpus.

``python -m workers.evaluation.neardup_eval [--per-length N] [--json]`` prints, per fingerprint scheme and
body length, how many copies were missed (not within the scheme's threshold of their original) and how many
unrelated pairs were merged (within it).

Bodies: real articles and feed entries of the shared corpus (space-separated languages only), cut to exactly
80, 120, 300 and 560 words at their own paragraph breaks; a paragraph over 45 words is cut into pieces of 45
(wire paragraphs are one or two sentences), and a last paragraph under 10 words joins the one before. At most
two bodies per corpus file, so one feed does not decide, and one text found in two files (a blog's Atom and RSS
feeds) is taken once. The corpus text is read in place, never stored.

Copies of each body, one kind at a time and combined:

- ``number``: one number edited (or, in a body without digits, one word replaced by a number);
- ``credit``: a credit line added, cycling through "(ANI)", "— Reuters", "Copyright 2026 AP...", a dateline
  "WASHINGTON (AP) —" before the first paragraph, a "Reporting by ...; Editing by ..." line;
- ``headline``: the body starts with its headline as a paragraph (as many feeds repeat it) and the copy has
  another one (the title of another corpus story); the title field itself is never fingerprinted;
- ``drop``: the last paragraph dropped;
- ``number+credit`` and ``number+credit+headline``.

Unrelated pairs: ``template``, two different bodies wrapped in the same opening and closing boilerplate paragraph
(an English and a Hindi template written here, 32 words each), cut to the same total length; ``any``, every pair
of different bodies of one length.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from workers.alerter import neardup
from workers.core.stories import normalise_for_fingerprint
from workers.evaluation.corpus import corpus_stories, file_of
from workers.settings.env import corpus_dir

LENGTHS = (80, 120, 300, 560)
KINDS = ("number", "credit", "headline", "drop", "number+credit", "number+credit+headline")
UNRELATED = ("template", "follow-up", "any")
EXCERPT = "half"
PARAGRAPH_MAX, PARAGRAPH_MIN = 45, 10
CREDITS = (
    ("after", "(ANI)"),
    ("after", "— Reuters"),
    ("after", "Copyright 2026 AP. All rights reserved."),
    ("before", "WASHINGTON (AP) —"),
    ("after", "Reporting by Anna Virtanen; Editing by Ravi Menon"),
)
ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = (  # written here; about 30 words of boilerplate, as a wire desk's dateline and disclaimer
    (
        "NEW DELHI, Dec 1 (Wirewatch Syndication): The following report was received from our partner desk.",
        "This story has not been edited by our staff and is published from a syndicated wire feed.",
    ),
    (
        "नई दिल्ली, 1 दिसंबर: यह रिपोर्ट हमारे सहयोगी डेस्क से प्राप्त हुई है।",
        "इस ख़बर को हमारे कर्मचारियों ने संपादित नहीं किया है और यह सिंडिकेटेड फ़ीड से प्रकाशित की गई है।",
    ),
)


@dataclass(frozen=True)
class Body:
    id: str  # corpus id and length: a label, not text
    title: str
    paragraphs: list[str]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    for para in text.split("\n\n"):
        words = para.split()
        out += [" ".join(words[i : i + PARAGRAPH_MAX]) for i in range(0, len(words), PARAGRAPH_MAX)]
    return out


def cut(paragraphs: list[str], length: int) -> list[str] | None:
    """The first ``length`` words, at the source's paragraph breaks; None when the text is shorter."""
    out: list[str] = []
    left = length
    for para in paragraphs:
        words = para.split()[:left]
        if words:
            out.append(" ".join(words))
            left -= len(words)
        if not left:
            break
    if left:
        return None
    if len(out) > 1 and len(out[-1].split()) < PARAGRAPH_MIN:
        out[-2:] = [out[-2] + " " + out[-1]]
    return out


def _spaced(text: str) -> bool:
    """A language that separates words by spaces (the fingerprint is over words)."""
    words = normalise_for_fingerprint(text).split()
    return bool(words) and sum(map(len, words)) / len(words) <= 12


def bodies(root: Path, length: int, per_length: int, per_file: int = 2) -> list[Body]:
    taken: dict[str, int] = {}
    seen: set[str] = set()  # one text in two corpus files (a blog's Atom and RSS feeds) is one body
    out: list[Body] = []
    for story in corpus_stories(root, lambda rel: rel.startswith(("articles/", "feeds/"))):
        title, _, rest = story.text.partition("\n\n")
        source = file_of(story.id)
        if taken.get(source, 0) >= per_file or not _spaced(rest):
            continue
        paras = cut(_paragraphs(rest), length)
        if paras is None or len(paras) < 2:
            continue
        key = normalise_for_fingerprint(" ".join(paras))
        if key in seen:
            continue
        seen.add(key)
        taken[source] = taken.get(source, 0) + 1
        out.append(Body(f"{story.id}@{length}", title.strip(), paras))
        if len(out) == per_length:
            break
    return out


def edit_number(paras: list[str], rnd: random.Random) -> list[str]:
    spots = [(i, m) for i, p in enumerate(paras) for m in re.finditer(r"\d+", p)]
    out = list(paras)
    if spots:
        i, m = rnd.choice(spots)
        old = m.group()
        new = str((int(old) + rnd.randrange(1, 9)) % 10 ** len(old)).zfill(len(old))
        out[i] = out[i][: m.start()] + new + out[i][m.end() :]
    else:
        i = rnd.randrange(len(out))
        words = out[i].split()
        words[rnd.randrange(len(words))] = str(rnd.randrange(2, 999))
        out[i] = " ".join(words)
    return out


def add_credit(paras: list[str], which: int) -> list[str]:
    where, line = CREDITS[which % len(CREDITS)]
    if where == "before":
        return [f"{line} {paras[0]}", *paras[1:]]
    return [*paras, line]


def copies(body: Body, other_title: str, index: int) -> dict[str, tuple[str, str]]:
    """Kind -> (original text, copy text); the headline kinds compare bodies that open with their headline."""
    rnd = random.Random(body.id)
    p = body.paragraphs
    number = edit_number(p, rnd)
    both = add_credit(number, index)
    plain, headed = "\n\n".join(p), "\n\n".join([body.title, *p])
    return {
        "number": (plain, "\n\n".join(number)),
        "credit": (plain, "\n\n".join(add_credit(p, index))),
        "headline": (headed, "\n\n".join([other_title, *p])),
        "drop": (plain, "\n\n".join(p[:-1])),
        "number+credit": (plain, "\n\n".join(both)),
        "number+credit+headline": (headed, "\n\n".join([other_title, *both])),
    }


def templated(body: Body, template: tuple[str, str], length: int) -> str:
    opening, closing = template
    room = length - len(opening.split()) - len(closing.split())
    news = cut(body.paragraphs, room) or body.paragraphs
    return "\n\n".join([opening, *news, closing])


@dataclass(frozen=True)
class Scheme:
    name: str
    fingerprint: Callable[[list[str]], int]  # normalised words -> fingerprint
    same: Callable[[int, int], bool]  # found by the band index and within the threshold
    about: str


def _minhash_scheme(n: int, slots: int, bands: int, threshold: int, band_slots: int = 2) -> Scheme:
    def same(a: int, b: int) -> bool:
        x_bands, y_bands = (
            neardup.band_bytes(a, slots, bands, band_slots),
            neardup.band_bytes(b, slots, bands, band_slots),
        )
        return (
            any(x == y for x, y in zip(x_bands, y_bands, strict=True))
            and neardup.slot_distance(a, b, slots) <= threshold
        )

    return Scheme(
        f"minhash-w{n}-{slots}x8-b{bands}-d{threshold}",
        lambda words: neardup.minhash(neardup.shingles(words, n), slots),
        same,
        f"MinHash over word {n}-shingles, {slots} one-byte slots, {bands} bands of {band_slots} slots, "
        f"<= {threshold} slots differ",
    )


def _simhash_scheme(n: int) -> Scheme:
    def fp(words: list[str]) -> int:
        return neardup.simhash64(words if n == 1 else sorted(neardup.shingles(words, n)))

    return Scheme(
        f"simhash-w{n}-64-d3",
        fp,
        lambda a, b: (a ^ b).bit_count() <= 3,
        f"SimHash over word {n}-{'grams' if n > 1 else 'words'}, 64 bits, 4 bands of 16, <= 3 bits",
    )


def schemes() -> list[Scheme]:
    """Before (the first), the chosen one (second) and the candidates measured next to them."""
    chosen = _minhash_scheme(neardup.SHINGLE, neardup.SLOTS, neardup.BANDS, neardup.MAX_DISTANCE, neardup.BAND_SLOTS)
    chosen = Scheme("chosen", chosen.fingerprint, chosen.same, f"neardup as shipped: {chosen.about}")
    candidates = [_simhash_scheme(3), _minhash_scheme(1, 32, 8, 13), _minhash_scheme(2, 32, 8, 13)]
    candidates += [_minhash_scheme(3, 16, 8, 7), _minhash_scheme(3, 16, 8, 6), _minhash_scheme(3, 32, 16, 15)]
    candidates += [_minhash_scheme(3, 32, 8, 11), _minhash_scheme(3, 32, 8, 15)]
    return [_simhash_scheme(1), chosen, *candidates]


@dataclass
class Tally:
    found: int = 0
    total: int = 0

    def add(self, hit: bool) -> None:
        self.found += hit
        self.total += 1


@dataclass
class Result:
    scheme: Scheme
    misses: dict[tuple[int, str], Tally] = field(default_factory=dict)  # (length, kind) -> copies not found
    merges: dict[tuple[int, str], Tally] = field(default_factory=dict)  # (length, unrelated kind) -> merged


def follow_up(body: Body, other: Body, length: int) -> str:
    """Another story that repeats this one's last paragraph as background (an update, a related report)."""
    background = body.paragraphs[-1]
    news = cut(other.paragraphs, length - len(background.split())) or other.paragraphs
    return "\n\n".join([*news, background])


def half(body: Body) -> str:
    """The body's first paragraphs, up to half its words: an excerpt, neither a miss nor a false merge."""
    out: list[str] = []
    for para in body.paragraphs:
        if sum(len(p.split()) for p in [*out, para]) > len(body.text.split()) // 2 and out:
            break
        out.append(para)
    return "\n\n".join(out)


def pairs(picked: list[Body], length: int) -> list[tuple[str, str, str]]:
    """(what, a, b): a copy kind, an unrelated kind or ``half``, and the two texts."""
    out: list[tuple[str, str, str]] = []
    for i, body in enumerate(picked):
        other = picked[(i + 1) % len(picked)]
        out += [(kind, a, b) for kind, (a, b) in copies(body, other.title, i).items()]
        out += [("template", templated(body, t, length), templated(other, t, length)) for t in TEMPLATES]
        out += [("follow-up", body.text, follow_up(body, other, length)), (EXCERPT, body.text, half(body))]
        out += [("any", body.text, b.text) for b in picked[i + 1 :]]
    return out


def measure(
    root: Path, per_length: int, lengths: Iterable[int] = LENGTHS
) -> tuple[list[Result], dict[tuple[int, str], list[float]]]:
    """Misses and merges per scheme, and the Jaccard similarity of word 3-shingles per (length, what)."""
    results = [Result(s) for s in schemes()]
    similarity: dict[tuple[int, str], list[float]] = {}
    for length in lengths:
        texts = pairs(bodies(root, length, per_length), length)
        words = {t: normalise_for_fingerprint(t).split() for _, a, b in texts for t in (a, b)}
        for what, a, b in texts:
            x, y = neardup.shingles(words[a]), neardup.shingles(words[b])
            similarity.setdefault((length, what), []).append(len(x & y) / len(x | y))
        for r in results:
            prints = {t: r.scheme.fingerprint(w) for t, w in words.items()}
            for what, a, b in texts:
                same = r.scheme.same(prints[a], prints[b])
                if what in KINDS:
                    r.misses.setdefault((length, what), Tally()).add(not same)
                else:
                    r.merges.setdefault((length, what), Tally()).add(same)
    return results, similarity


def _cell(t: Tally) -> str:
    return f"{t.found}/{t.total}"


def table(results: list[Result], lengths: Iterable[int] = LENGTHS) -> str:
    lines = []
    head = ["words", *(f"miss {k}" for k in KINDS), *(f"merge {k}" for k in UNRELATED), f"{EXCERPT} merged"]
    for r in results:
        lines += [f"\n{r.scheme.name}: {r.scheme.about}", "| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for length in lengths:
            cells = [_cell(r.misses[(length, k)]) for k in KINDS]
            cells += [_cell(r.merges[(length, k)]) for k in (*UNRELATED, EXCERPT)]
            lines.append(f"| {length} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def similarity_table(similarity: dict[tuple[int, str], list[float]], lengths: Iterable[int] = LENGTHS) -> str:
    """Copies: median (lowest); unrelated: median (highest) Jaccard similarity of word 3-shingle sets."""
    head = ["words", *KINDS, *UNRELATED, EXCERPT]
    lines = ["\nJaccard similarity of word 3-shingles: copies median (lowest), others median (highest)"]
    lines += ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for length in lengths:
        cells = []
        for what in head[1:]:
            js = sorted(similarity[(length, what)])
            edge = js[0] if what in KINDS else js[-1]
            cells.append(f"{js[len(js) // 2]:.2f} ({edge:.2f})")
        lines.append(f"| {length} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def as_json(results: list[Result]) -> Iterable[str]:
    for r in results:
        for (length, kind), t in sorted(r.misses.items()):
            yield json.dumps({"scheme": r.scheme.name, "words": length, "copy": kind, "missed": t.found, "of": t.total})
        for (length, kind), t in sorted(r.merges.items()):
            row = {"scheme": r.scheme.name, "words": length, "other": kind, "merged": t.found, "of": t.total}
            yield json.dumps(row)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workers.evaluation.neardup_eval", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--corpus", type=Path, help="the shared corpus (default: $WIREWATCH_CORPUS or ../shared)")
    parser.add_argument("--per-length", type=int, default=60, metavar="N", help="bodies per length (default 60)")
    parser.add_argument("--lengths", type=int, nargs="*", help=f"body lengths in words (default {LENGTHS})")
    parser.add_argument("--json", action="store_true", help="one JSON line per figure instead of tables")
    args = parser.parse_args(argv)
    root = args.corpus or corpus_dir(ROOT.parent / "shared" / "corpus")
    if not (root / "MANIFEST.tsv").is_file():
        parser.exit(2, f"error: no corpus at {root} (MANIFEST.tsv missing; set WIREWATCH_CORPUS or --corpus)\n")
    lengths = tuple(args.lengths or LENGTHS)
    results, similarity = measure(root, args.per_length, lengths)
    if args.json:
        print("\n".join(as_json(results)))
        return 0
    print(table(results, lengths))
    print(similarity_table(similarity, lengths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
