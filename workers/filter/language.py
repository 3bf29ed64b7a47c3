"""Language detection of a story with langdetect, made deterministic and total.

Order of decisions in ``detect``:

0. a text whose letters are mostly of a script that one language owns (Hangul, Thai, Greek, Hebrew, Georgian,
   Armenian, Myanmar, Khmer, Lao, Sinhala, Tamil, Telugu, Kannada, Malayalam, Gujarati, Gurmukhi), or that
   holds kana, is that language without asking langdetect, with the script's share of the letters as the
   probability: as accurate on the lingua-go sentences, cheaper, and it knows Georgian, Armenian, Burmese,
   Khmer, Lao and Sinhala, which langdetect has no profile for;
1. clean the text (drop URLs and e-mail addresses, collapse whitespace) and keep its first ``MAX_CHARS``
   characters, so a huge story costs no more than a long one;
1b. letters that only one language we can return writes (Belarusian ў, Serbian ђ ћ, Kazakh ә ғ қ ң ұ һ,
   Azerbaijani ə, Icelandic ð, Esperanto ĉ ĝ ĥ ĵ ŝ ŭ, Macedonian ѓ ќ ѕ; ``language_rules.UNIQUE_LETTERS``)
   decide that language, with probability 1.0, without langdetect, which has no profile for most of them;
2. run langdetect with a fixed seed (it samples n-grams at random, so without a seed two runs can disagree);
   text without letters ("No features in text") or any other langdetect failure gives ``und``; when its best
   probability is below ``RECHECK`` (a tenth of sentences, few stories) it runs again with ``RECHECK_TRIALS``,
   langdetect's default, so an unsure text gets plain langdetect's answer, not a noisier 3-trial one; a text
   under ``FULL_TRIALS_CHARS`` characters gets the 7 trials at once (3 trials of few n-grams can agree by chance);
   when the best is still below ``CONFIDENT`` and the text had links, langdetect reads it again with them (as
   plain langdetect does) and the surer of the two answers wins: links are noise in a long story, but in a
   short line they may be all that tells (a Catalan sentence ending in www.<name>.ch was 4:3 French without it);
2b. if langdetect's answer is one that texts of a language it lacks come out as (Mongolian as Russian,
   Serbian as Macedonian, Basque as Indonesian, Zulu as Swahili...), Lingua, restricted to that answer and
   those languages, may replace it by one of them when it is sure (``language_rules.second_opinion``); on a
   text under 120 characters, where Lingua's low accuracy mode is unreliable, only if its high accuracy mode,
   between langdetect's answer and that language, prefers it too (``language_rules.confirmed``);
3. map langdetect's codes to ISO 639-1 (``zh-cn``/``zh-tw`` -> ``zh``); correct by script where langdetect's
   profiles overlap: "ko" for text without any Hangul, or "ja" for text without any kana, is Chinese
   (langdetect's Korean profile holds Hanja, so Traditional Chinese often comes out as "ko");
4. if the result is unsure (``und``, probability below ``CONFIDENT``, or fewer than ``SHORT_LETTERS`` letters,
   where langdetect is confidently wrong: "Kim" -> sw at 0.99999) and the caller has a hint (the feed's or
   entry's declared language), the hint wins, with the probability langdetect gave that language (0.0 if it
   did not rank it), so the number always speaks of the language returned.

``detect`` never raises. Bokmål is ``no`` (langdetect's code, which feeds and topics already use; an ``nb``
hint normalises to it), Nynorsk ``nn``.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from workers.filter import language_rules

logger = logging.getLogger(__name__)

UNDETERMINED = "und"
# Measured on the 1,567 labelled corpus stories and 2,900 lingua-go sentences: 400, 600 and 1000 characters
# with 3, 5 or 7 trials all get 1560 stories right, and 3 trials get 2640 sentences right against 2642 with
# langdetect's default 7. 600 characters and 3 trials cost about half of 1000 and 7: detection is most of a
# story's filter time, so that is the setting.
MAX_CHARS = 600
N_TRIAL = 3
CONFIDENT = 0.80
SHORT_LETTERS = 20
SEED = 0
# 3 trials disagree with langdetect's default 7 on 3% of the lingua-go sentences, nearly all of them with a best
# probability below 0.9; re-running those with 7 leaves 14 of 15,000 sentences apart from plain langdetect.
RECHECK = 0.9
RECHECK_TRIALS = 7
# Under this many characters (cleaned) a text has few n-grams, and 3 trials can agree on a language that 7 split
# over (lingua-go: "Riber, 3 de febrer i 26 de juliol." ca 3:0 da, 4:3 ca with 7): such texts get langdetect's
# default 7 trials from the start, what plain langdetect does. They are cheap (about 6 ms against 2.5 ms).
FULL_TRIALS_CHARS = 200

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MAIL_RE = re.compile(r"\S+@\S+\.\w+")
_SPACE_RE = re.compile(r"\s+")
_HINT_RE = re.compile(r"[a-z]{2,3}")
_HANGUL_RE = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_KANA_RE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_CODE_MAP = {"zh-cn": "zh", "zh-tw": "zh", "nb": "no"}  # Bokmål is langdetect's "no" (language_rules)
SCRIPT_SHARE = 0.5  # of the letters, for a script to decide the language by itself
KANA_SHARE = 0.1  # of the letters: Japanese writes kana between its kanji, Chinese never does
_LETTER = r"[^\W\d_]"
_LETTER_RE = re.compile(_LETTER)
_SCRIPTS = tuple(
    (code, re.compile(f"(?=[{ranges}]){_LETTER}"))
    for code, ranges in (
        ("ko", "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"),
        ("th", "\u0e00-\u0e7f"),
        ("el", "\u0370-\u03ff\u1f00-\u1fff"),
        ("he", "\u0590-\u05ff"),
        ("ka", "\u10a0-\u10ff"),
        ("hy", "\u0530-\u058f"),
        ("my", "\u1000-\u109f"),
        ("km", "\u1780-\u17ff"),
        ("lo", "\u0e80-\u0eff"),
        ("si", "\u0d80-\u0dff"),
        ("ta", "\u0b80-\u0bff"),
        ("te", "\u0c00-\u0c7f"),
        ("kn", "\u0c80-\u0cff"),
        ("ml", "\u0d00-\u0d7f"),
        ("gu", "\u0a80-\u0aff"),
        ("pa", "\u0a00-\u0a7f"),
    )
)
_KANA_LETTER_RE = re.compile(f"(?=[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]){_LETTER}")
_HAN_LETTER_RE = re.compile(f"(?=[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005]){_LETTER}")
# Latin, Cyrillic, Arabic, Devanagari (and ASCII punctuation): scripts several languages share.
_NO_DECIDING_SCRIPT_RE = re.compile(r"[\x00-\u024f\u0400-\u052f\u0600-\u06ff\u0900-\u097f\s]*")

_factory: DetectorFactory | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class Detection:
    language: str  # ISO 639-1 ("hi", "ru", "zh"), or "und" when unknown
    probability: float  # 0.0 for "und"


def detectable_languages() -> frozenset[str]:
    """Every code ``detect`` can return: langdetect's profiles (zh-cn/zh-tw as zh), the script-owned languages,
    those decided by their letters and those the second opinion may switch to."""
    import os

    profiles = {normalize_code(name) or name for name in os.listdir(PROFILES_DIRECTORY)}
    scripts = {code for code, _ in _SCRIPTS} | {"ja", "zh"}
    letters = {u.language for u in language_rules.UNIQUE_LETTERS}
    second = {code for codes in language_rules.LANDING.values() for code in codes}
    return frozenset(profiles | scripts | letters | second)


def warm_up() -> None:
    """Load langdetect's profiles (about a second); call once at daemon start so the first story is not slow."""
    _get_factory()
    language_rules.warm_up()


def _get_factory() -> DetectorFactory:
    global _factory
    if _factory is None:
        with _lock:
            if _factory is None:
                # The seed is read when a detector is created; set it before any exists (see PITFALLS.md).
                DetectorFactory.seed = SEED
                factory = DetectorFactory()
                factory.load_profile(PROFILES_DIRECTORY)
                factory.seed = SEED
                _factory = factory
                logger.debug("langdetect profiles loaded languages=%d", len(factory.get_lang_list()))
    return _factory


def clean(text: str, links: bool = False) -> str:
    """The part of ``text`` worth showing langdetect: no URLs or addresses (``links``: with them), single
    spaces, at most MAX_CHARS."""
    # Cut before the regexes run so a megabyte of text costs the same as MAX_CHARS * 4 of it.
    text = text[: MAX_CHARS * 4]
    if not links:
        text = _URL_RE.sub(" ", text)
        text = _MAIL_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()[:MAX_CHARS]


def _has_links(text: str) -> bool:
    head = text[: MAX_CHARS * 4]
    return bool(_URL_RE.search(head) or _MAIL_RE.search(head))


def normalize_code(code: str | None) -> str | None:
    """``"en-US"`` -> ``"en"``, ``"zh-cn"`` -> ``"zh"``; None for anything that is not a language tag."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    if code in _CODE_MAP:
        return _CODE_MAP[code]
    primary = code.split("-", 1)[0]
    primary = _CODE_MAP.get(primary, primary)
    return primary if _HINT_RE.fullmatch(primary) and primary != UNDETERMINED else None


def _ranked(text: str, n_trial: int = N_TRIAL, links: bool = False) -> dict[str, float]:
    """langdetect's candidates (ISO codes, best first) for ``text``; empty when it finds no features.
    ``links``: shown with its URLs and addresses (see ``clean``)."""
    cleaned = clean(text, links)
    if not cleaned:
        return {}
    try:
        detector = _get_factory().create()
        detector.n_trial = n_trial
        detector.append(cleaned)
        ranked = detector.get_probabilities()
    except LangDetectException:
        # "No features in text": digits, emoji, punctuation only.
        return {}
    except Exception:  # langdetect bugs on odd input must not stop a story
        logger.warning("langdetect failed chars=%d", len(cleaned), exc_info=True)
        return {}
    out: dict[str, float] = {}
    for candidate in ranked:
        code = _CODE_MAP.get(candidate.lang, candidate.lang)
        if (code == "ko" and not _HANGUL_RE.search(cleaned)) or (code == "ja" and not _KANA_RE.search(cleaned)):
            code = "zh"
        out[code] = out.get(code, 0.0) + float(candidate.prob)  # zh-cn and zh-tw both count for zh
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def by_script(cleaned: str) -> Detection | None:
    """The language a single-language script decides (step 0 of the module docstring), or None."""
    # Latin, Cyrillic, Arabic and Devanagari text (most stories) cannot be decided this way: skip the counting.
    if _NO_DECIDING_SCRIPT_RE.fullmatch(cleaned):
        return None
    letters = len(_LETTER_RE.findall(cleaned))
    if not letters:
        return None
    kana = len(_KANA_LETTER_RE.findall(cleaned))
    if kana / letters >= KANA_SHARE:
        return Detection("ja", round(min(1.0, (kana + len(_HAN_LETTER_RE.findall(cleaned))) / letters), 4))
    for code, script in _SCRIPTS:
        share = len(script.findall(cleaned)) / letters
        if share >= SCRIPT_SHARE:
            return Detection(code, round(share, 4))
    return None


def _is_short(text: str) -> bool:
    letters = 0
    for c in clean(text):
        letters += c.isalpha()
        if letters >= SHORT_LETTERS:
            return False
    return True


def detect(text: str, hint: str | None = None) -> Detection:
    """The language of ``text``; ``hint`` (a declared language such as ``"hi"`` or ``"en-US"``) wins when unsure."""
    text = text if isinstance(text, str) else ""
    cleaned = clean(text)
    decided = by_script(cleaned)
    if decided is not None:
        return decided
    lettered = language_rules.by_letters(cleaned)
    if lettered is not None:
        return Detection(lettered[0], 1.0)
    short = len(cleaned) < FULL_TRIALS_CHARS
    ranked = _ranked(text, RECHECK_TRIALS if short else N_TRIAL)
    if not short and ranked and next(iter(ranked.values())) < RECHECK:
        ranked = _ranked(text, RECHECK_TRIALS)
    if ranked and next(iter(ranked.values())) < CONFIDENT and _has_links(text):
        # What is left without the links leaves langdetect unsure: the text with them, as plain langdetect
        # reads it, may be better evidence (a .ch or .cat address, a path in the language); the surer wins.
        linked = _ranked(text, RECHECK_TRIALS, links=True)
        if linked and next(iter(linked.values())) > next(iter(ranked.values())):
            ranked = linked
    found = Detection(*next(iter(ranked.items()))) if ranked else Detection(UNDETERMINED, 0.0)
    if found.language != UNDETERMINED:
        overruled = language_rules.second_opinion(cleaned, found.language)
        if overruled is not None:
            found = Detection(*overruled)
    if found.language != UNDETERMINED and found.probability >= CONFIDENT and not _is_short(text):
        return found
    hinted = normalize_code(hint)
    if hinted is None or hinted == found.language:
        return found
    return Detection(hinted, ranked.get(hinted, 0.0))
