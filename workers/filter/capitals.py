"""The government sense of a capital: "Moscow said" stands for the state, "in Moscow" is the city.

A topic with ``capitals: true`` counts a capital as its country only in the state sense; ``capitals: any``
counts every mention (a summit topic, where "Kim in Moscow" is the story). ``as_state`` decides one hit of a
capital, in the story's normalised text, by what marks a place in the story's language. A hit is the city,
and does not count, when any of these holds (each a closed list per language, below):

1. the word before it is a preposition of place or direction: in, at, near, to (en), в, во, под (ru), u, kod
   (hr), w, do, pod (pl), à (fr), em, para (pt), di, ke (id), sa (tl), ở, tại (vi), در (fa), في (ar)...; or it
   ends a list of one-word names that such a preposition opens ("in Prague, Vienna or Moscow": up to
   ``LIST_ITEMS`` items joined by commas and the language's "and" and "or");
2. a proclitic of place is attached to it: Hebrew ב (במוסקבה), Arabic ب (بموسكو);
3. it carries a locative case: what follows the letters it shares with the capital's nominative is a
   locative or illative ending of the language (Finnish Moskovassa, Moskovaan; Estonian Moskvas, Moskvasse;
   Hungarian Moszkvában; Turkish Moskova'da; Lithuanian Maskvoje; Latvian Maskavā; Georgian მოსკოვში;
   Armenian Մոսկվայում; Tamil மாஸ்கோவில்; Malayalam മോസ്കോയിൽ; Bengali মস্কোতে...), or a particle of
   place follows it (Korean 모스크바에서, Japanese モスクワで);
4. a postposition of place follows it as a word: Hindi में, Urdu میں, Punjabi ਵਿੱਚ, Nepali मा;
5. in an unspaced script, a marker of place stands right before it: Chinese 在, 到, 赴, 抵, 于; Thai ใน, ที่,
   ไป (with or without กรุง, "the city of");
6. it is part of a longer phrase of place (``workers/filter/place_phrases.py``): a direction, "near", the
   outskirts, the centre or the streets, the mayor, the metro, a distance before it ("south of Moscow", "к югу
   от Москвы", "na południe od Moskwy", "kusini mwa Moscow"), or the same after its word in the languages that
   put the genitive first ("Moskovan lähellä", "Moskova'nın güneyinde", "ਮਾਸਕੋ ਦੀਆਂ ਸੜਕਾਂ", "모스크바 외곽",
   "モスクワ郊外"). Words that are also the state's ("close to Moscow", Hindi के पास "Moscow has", "Moscow
   time" in English) are left out.

Everything else counts: the capital as a subject or object ("Moscow denied", "Moskova reddetti"), its
genitive ("Moscow's decision", "Moskovan päätös") and the cases of verbs' objects (Russian "пригрозил
Москве"), which name the state as often as the city. What is left out on purpose: "from" (a message from
Moscow is the government as often as a flight from Moscow is the city) and dative-only markers (Tamil
-க்கு, Korean 에게), for the same reason. The lists are closed and tested (tests/unit/filter/test_capitals.py,
negatives beside positives).
"""

from __future__ import annotations

from collections.abc import Iterable

from workers.filter.place_phrases import KO_PARTICLES, PLACE_PHRASE_AFTER, PLACE_PHRASE_BEFORE
from workers.filter.textnorm import is_word_char, normalize_term


def _words(text: str) -> frozenset[str]:
    return frozenset(normalize_term(w).strip() for w in text.split())


def _table(words_of: dict[str, str]) -> dict[str, frozenset[str]]:
    """Per language, its space-separated words normalised as story text is."""
    return {lang: _words(words) for lang, words in words_of.items()}


_SOUTH_SLAVIC = "u na kod pri pod у на код при под"
# 1. Prepositions of place or direction, the word right before the capital.
PLACE_BEFORE: dict[str, frozenset[str]] = _table(
    {
        "en": "in at near into to outside around inside throughout towards toward via across",
        "de": "in im nach bei nahe um",
        "nl": "in naar bij nabij rond",
        "af": "in na naby by",
        "sv": "i till nära utanför vid",
        "no": "i til nær ved utenfor",
        "da": "i til nær ved udenfor",
        "is": "í til",
        "fr": "à vers",
        "es": "en a hacia",
        "pt": "em para a no na",
        "gl": "en a cara",
        "it": "a in verso",
        "ca": "a cap en",
        "ro": "în la spre",
        "pl": "w we do pod koło przy",
        "cs": "v ve do u při",
        "sk": "v vo do pri pod",
        "sl": "v na pri pod",
        "hr": _SOUTH_SLAVIC,
        "bs": _SOUTH_SLAVIC,
        "sr": _SOUTH_SLAVIC,
        "ru": "в во под около возле близ",
        "uk": "в у під біля поблизу",
        "be": "у ў ва пад каля",
        "bg": "в във край около",
        "mk": "во кај околу",
        "lt": "į prie",
        "lv": "uz pie",
        "el": "σε στη στην στο στον κοντά",
        "sq": "në drejt pranë",
        "ga": "i in go",
        "cy": "yn yng ym i",
        "eo": "en al ĉe",
        "la": "in",
        "id": "di ke",
        "ms": "di ke",
        "tl": "sa",
        "vi": "ở tại đến tới",
        "sw": "katika mjini jijini huko",
        "so": "magaalada",
        "fa": "در نزدیکی نزدیک حومه",
        "ar": "في إلى",
        "ur": "",
        "tr": "",
    }
)
# The words that join a list of places ("in Prague, Vienna or Moscow").
LIST_JOINERS: dict[str, frozenset[str]] = _table(
    {
        "en": "and or",
        "de": "und oder",
        "nl": "en of",
        "af": "en of",
        "sv": "och eller",
        "no": "og eller",
        "da": "og eller",
        "fr": "et ou",
        "es": "y e o u",
        "pt": "e ou",
        "gl": "e ou",
        "it": "e ed o",
        "ca": "i o",
        "ro": "și sau",
        "pl": "i oraz lub czy albo",
        "cs": "a i nebo či",
        "sk": "a i alebo či",
        "sl": "in ali",
        "hr": "i ili te",
        "bs": "i ili te",
        "sr": "i ili te и или те",
        "ru": "и или",
        "uk": "і й та або чи",
        "be": "і й або ці",
        "bg": "и или",
        "mk": "и или",
        "lt": "ir ar",
        "lv": "un vai",
        "el": "και ή",
        "sq": "dhe ose",
        "id": "dan atau",
        "ms": "dan atau",
        "tl": "at o",
        "vi": "và hoặc",
    }
)
LIST_ITEMS = 4

# 2. Proclitics of place attached before the capital.
PLACE_PROCLITIC: dict[str, frozenset[str]] = {"he": frozenset("ב"), "ar": frozenset("ب")}
# 3. Locative and illative endings: what follows the letters a form shares with the capital's nominative.
PLACE_ENDING: dict[str, frozenset[str]] = _table(
    {
        "fi": "ssa ssä ssakin ssäkin lla llä hin seen iin",
        "et": "s as es is us sse asse esse isse usse",
        "hu": "ban ben ba be ában ében ába ébe",
        "tr": "'da 'de 'ta 'te 'daki 'deki 'taki 'teki da de ta te daki deki",
        "az": "da də ta tə dakı dəki",
        "uz": "da",
        "kk": "да де та те дағы дегі тағы тегі",
        "ky": "да де та те до дө то тө",
        "tt": "да дә та тә",
        "mn": "д т ад од эд өд",
        "lt": "oje je ije uje yje ėje",
        "lv": "ā ē ī ū",
        "eu": "ko ra",
        "ka": "ში",
        "hy": "ում յում",
        "ta": "வில் இல் ில் வில",
        "ml": "യിൽ ിൽ ൽ",
        "te": "లో",
        "kn": "ದಲ್ಲಿ ಅಲ್ಲಿ ನಲ್ಲಿ ಲ್ಲಿ",
        "bn": "তে য় এ",
        "gu": "માં",
        "mr": "त मध्ये",
        "ne": "मा",
    }
)
# Finnish illatives double the capital's last vowel and add n (Moskova -> Moskovaan, Helsinki -> Helsinkiin);
# the Basque inessive adds n after a vowel (Mosku -> Moskun).
# Particles right after the capital (Korean, Japanese: no space between).
PLACE_PARTICLE: dict[str, tuple[str, ...]] = {"ko": ("에",), "ja": ("で",)}
# 4. Postpositions of place, the word right after the capital.
PLACE_AFTER: dict[str, frozenset[str]] = _table({"hi": "में मे", "ur": "میں", "pa": "ਵਿੱਚ ਵਿਚ ਵਿਖੇ", "ne": "मा"})
# 5. Unspaced scripts: what stands right before the capital.
PLACE_PREFIX: dict[str, tuple[str, ...]] = {
    "zh": tuple("在到赴抵于往"),
    "th": ("ใน", "ที่", "ไป", "สู่", "ในกรุง", "ที่กรุง", "ไปกรุง", "สู่กรุง"),
}
_VOWELS = frozenset("aeiouyäöüõáéíóúâêôãàèìòù")


def _previous_word(text: str, start: int) -> tuple[str, int, bool]:
    """The word before ``start`` (skipping spaces, and a comma when there is one), where it begins, and whether
    a comma stood between."""
    end = start
    while end > 0 and text[end - 1] in " \t\n\u00a0":
        end -= 1
    comma = end > 0 and text[end - 1] == ","
    if comma:
        end -= 1
        while end > 0 and text[end - 1] in " \t\n\u00a0":
            end -= 1
    begin = end
    while begin > 0 and is_word_char(text[begin - 1]):
        begin -= 1
    return text[begin:end], begin, comma


def _after_place_word(text: str, start: int, before: frozenset[str], joiners: frozenset[str]) -> bool:
    """Whether a place preposition stands right before ``start``, or opens the list of names that ends there."""
    word, begin, comma = _previous_word(text, start)
    if word in before and not comma:
        return True
    # A list ends "..., Vienna or Moscow": the capital comes right after a joiner ("In March, Moscow said" is
    # no list), and every item before it is one word of letters, joined by a comma or a joiner.
    if comma or word not in joiners:
        return False
    item, begin, _comma = _previous_word(text, begin)
    for _ in range(LIST_ITEMS):
        if not item.isalpha():
            return False
        word, at, comma = _previous_word(text, begin)  # what stands before the item
        if comma:  # another item: "Prague, |Vienna"
            item, begin = word, at
        elif word in before:
            # A sentence that opens "In March, Kyiv and Moscow said" starts with a phrase, not a list of places.
            return text[:at].rstrip()[-1:] not in ("", ".", "!", "?", ":", ";", "\n")
        elif word in joiners:  # "Prague and |Vienna or Moscow"
            item, begin, _comma = _previous_word(text, at)
        else:
            return False
    return False


def _next_word(text: str, end: int) -> str:
    begin = end
    while begin < len(text) and text[begin] in " \t\n\u00a0":
        begin += 1
    stop = begin
    while stop < len(text) and is_word_char(text[stop]):
        stop += 1
    return text[begin:stop]


def _word_end(text: str, end: int) -> int:
    """Where the word of a hit ends: its letters, and a Turkish apostrophe suffix (Moskova'da)."""
    stop = end
    while stop < len(text) and (is_word_char(text[stop]) or (text[stop] in "'’" and stop + 1 < len(text))):
        if text[stop] in "'’" and not is_word_char(text[stop + 1]):
            break
        stop += 1
    return stop


def _shared(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _vowel_n(language: str, capital: str, rest: str) -> bool:
    last = capital[-1:]
    if last not in _VOWELS:
        return False
    return (language == "fi" and rest == last + "n") or (language == "eu" and rest == "n")


def _phrase_before(text: str, start: int, phrases: tuple[tuple[str, ...], ...]) -> bool:
    """Whether one of ``phrases`` ends right before ``start``, word for word, no comma between."""
    words: list[str] = []
    begin = start
    longest = max(len(p) for p in phrases)
    for _ in range(longest):
        word, begin, comma = _previous_word(text, begin)
        if comma or not word:
            break
        words.insert(0, word)
    return any(len(p) <= len(words) and tuple(words[len(words) - len(p) :]) == p for p in phrases)


def _words_after(text: str, stop: int, count: int) -> list[str]:
    words = []
    for _ in range(count):
        word = _next_word(text, stop)
        if not word:
            break
        words.append(word)
        stop = text.index(word, stop) + len(word)
    return words


def _phrase_after(text: str, end: int, stop: int, language: str, phrases: tuple[tuple[str, ...], ...]) -> bool:
    """Whether one of ``phrases`` starts right after the capital's word (the hit ends at ``end``, its word at
    ``stop``); in unspaced Japanese whether the text goes on with one; in Korean whether a place noun ends one of
    the next two words after a bare or genitive (의) capital."""
    if language == "ja":  # no spaces: what follows the hit itself
        return text.startswith(tuple(p[0] for p in phrases), end)
    words = _words_after(text, stop, max(len(p) for p in phrases) if language != "ko" else 2)
    if language == "ko":
        if text[end:stop] not in ("", "의"):  # 모스크바는 (topic), 모스크바가 (subject): the state acts
            return False
        nouns = tuple(p[0] for p in phrases)
        for word in words:
            bare = next((word[: -len(x)] for x in KO_PARTICLES if word.endswith(x) and len(word) > len(x)), word)
            if bare.endswith(nouns):
                return True
            if bare != word:  # a particle closes the phrase: the noun after it is another one's
                return False
        return False
    return any(tuple(words[: len(p)]) == p for p in phrases)


def as_state(text: str, start: int, end: int, language: str, capital: str) -> bool:
    """Whether the capital hit ``text[start:end]`` may stand for the state (see the module docstring).
    ``text`` is the normalised story, ``capital`` the normalised nominative the hit is a form of."""
    before = PLACE_BEFORE.get(language)
    if before and _after_place_word(text, start, before, LIST_JOINERS.get(language, frozenset())):
        return False
    proclitics = PLACE_PROCLITIC.get(language)
    if proclitics and start > 0 and is_word_char(text[start - 1]):
        letters = start
        while letters > 0 and is_word_char(text[letters - 1]):
            letters -= 1
        if any(c in proclitics for c in text[letters:start]):
            return False
    prefixes = PLACE_PREFIX.get(language)
    if prefixes and text[:start].rstrip().endswith(prefixes):
        return False
    after = PLACE_AFTER.get(language)
    if after and _next_word(text, end) in after:
        return False
    particles = PLACE_PARTICLE.get(language)
    if particles and text.startswith(particles, end):
        return False
    phrases = PLACE_PHRASE_BEFORE.get(language)
    if phrases and _phrase_before(text, start, phrases):
        return False
    stop = _word_end(text, end)
    phrases = PLACE_PHRASE_AFTER.get(language)
    if phrases and _phrase_after(text, end, stop, language, phrases):
        return False
    endings = PLACE_ENDING.get(language)
    if endings:
        word = text[start:stop]
        rest = word[_shared(word, capital) :]
        if rest and (rest in endings or _vowel_n(language, capital, rest)):
            return False
    return True


def state_spans(text: str, spans: Iterable[tuple[int, int]], language: str, capital: str) -> list[tuple[int, int]]:
    """The spans of a capital's hits that may stand for the state."""
    return [(s, e) for s, e in spans if as_state(text, s, e, language, capital)]
