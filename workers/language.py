"""Language detection of a story with langdetect, made deterministic and total.

Order of decisions in ``detect``:

1. clean the text (drop URLs and e-mail addresses, collapse whitespace) and keep its first ``MAX_CHARS``
   characters, so a huge story costs no more than a long one;
2. run langdetect with a fixed seed (it samples n-grams at random, so without a seed two runs can disagree);
   text without letters ("No features in text") or any other langdetect failure gives ``und``;
3. map langdetect's codes to ISO 639-1 (``zh-cn``/``zh-tw`` -> ``zh``);
4. if the result is unsure (``und`` or probability below ``CONFIDENT``) and the caller has a hint (the feed's
   or entry's declared language), the hint wins: a feed's own label beats a guess on a short title.

``detect`` never raises.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

logger = logging.getLogger(__name__)

UNDETERMINED = "und"
MAX_CHARS = 2000  # langdetect reaches its verdict long before this; beyond it only the cost grows
CONFIDENT = 0.80
SEED = 0

_URL_RE = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MAIL_RE = re.compile(r"\S+@\S+\.\w+")
_SPACE_RE = re.compile(r"\s+")
_HINT_RE = re.compile(r"[a-z]{2,3}")
_CODE_MAP = {"zh-cn": "zh", "zh-tw": "zh"}

_factory: DetectorFactory | None = None
_lock = threading.Lock()


@dataclass(frozen=True)
class Detection:
    language: str  # ISO 639-1 ("hi", "ru", "zh"), or "und" when unknown
    probability: float  # 0.0 for "und"


def warm_up() -> None:
    """Load langdetect's profiles (about a second); call once at daemon start so the first story is not slow."""
    _get_factory()


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


def clean(text: str) -> str:
    """The part of ``text`` worth showing langdetect: no URLs or addresses, single spaces, at most MAX_CHARS."""
    # Cut before the regexes run so a megabyte of text costs the same as MAX_CHARS * 4 of it.
    text = text[: MAX_CHARS * 4]
    text = _URL_RE.sub(" ", text)
    text = _MAIL_RE.sub(" ", text)
    return _SPACE_RE.sub(" ", text).strip()[:MAX_CHARS]


def normalize_code(code: str | None) -> str | None:
    """``"en-US"`` -> ``"en"``, ``"zh-cn"`` -> ``"zh"``; None for anything that is not a language tag."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    if code in _CODE_MAP:
        return _CODE_MAP[code]
    primary = code.split("-", 1)[0]
    return primary if _HINT_RE.fullmatch(primary) and primary != UNDETERMINED else None


def _raw_detect(text: str) -> Detection:
    cleaned = clean(text)
    if not cleaned:
        return Detection(UNDETERMINED, 0.0)
    try:
        detector = _get_factory().create()
        detector.append(cleaned)
        ranked = detector.get_probabilities()
    except LangDetectException:
        # "No features in text": digits, emoji, punctuation only.
        return Detection(UNDETERMINED, 0.0)
    except Exception:  # langdetect bugs on odd input must not stop a story
        logger.warning("langdetect failed chars=%d", len(cleaned), exc_info=True)
        return Detection(UNDETERMINED, 0.0)
    if not ranked:
        return Detection(UNDETERMINED, 0.0)
    best = ranked[0]
    return Detection(_CODE_MAP.get(best.lang, best.lang), float(best.prob))


def detect(text: str, hint: str | None = None) -> Detection:
    """The language of ``text``; ``hint`` (a declared language such as ``"hi"`` or ``"en-US"``) wins when unsure."""
    found = _raw_detect(text if isinstance(text, str) else "")
    if found.language != UNDETERMINED and found.probability >= CONFIDENT:
        return found
    hinted = normalize_code(hint)
    if hinted is None or hinted == found.language:
        return found
    return Detection(hinted, found.probability)
