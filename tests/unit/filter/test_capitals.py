"""The state sense of a capital (``capitals: true``): "Moscow said" counts, "in Moscow" does not; ``capitals: any``
counts both. Sentences written for these tests, each city sentence beside a state sentence of its language."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.core.errors import ConfigError
from workers.filter.capitals import as_state
from workers.filter.matcher import Matcher
from workers.filter.textnorm import normalize
from workers.filter.topics import TopicsFile, build_topics, load_topics


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    cfg = TopicsFile.model_validate(
        {
            "topics": {
                "ru-state": {"countries": ["RU"], "capitals": True},
                "kp-state": {"countries": ["KP"], "capitals": True},
                "de-state": {"countries": ["DE"], "capitals": True},
                "ru-any": {"countries": ["RU"], "capitals": "any"},
                "ru": {"countries": ["RU"]},
                "summit": {"all": [{"terms": ["Kim"]}, {"countries": ["RU"]}], "capitals": True},
            }
        }
    )
    return Matcher(build_topics(cfg, Path("topics.yaml")))


# (language, the capital as the state, the capital as the city): the same capital, each sentence written here.
PAIRS = [
    ("en", "Moscow said the talks had failed.", "He studied in Moscow for three years."),
    ("en", "Moscow's decision surprised Brussels.", "A new bridge was opened near Moscow."),
    ("de", "Moskau weist die Vorwürfe zurück.", "Der Kanzler reist nach Moskau."),
    ("nl", "Moskou ontkent elke betrokkenheid.", "Het concert vond plaats in Moskou."),
    ("sv", "Moskva avvisar anklagelserna.", "Hon bodde i Moskva i tio år."),
    ("fr", "Moscou a rejeté les accusations.", "Il a passé son enfance à Moscou."),
    ("es", "Moscú rechazó las acusaciones.", "La conferencia se celebró en Moscú."),
    ("pt", "Moscou negou as acusações.", "Ele viveu em Moscou durante a guerra."),
    ("it", "Mosca ha respinto le accuse.", "Il festival si è svolto a Mosca."),
    ("ro", "Moscova a respins acuzațiile.", "Delegația a sosit la Moscova."),
    ("ru", "Москва отвергла обвинения.", "Конференция прошла в Москве."),
    ("uk", "Москва відкинула звинувачення.", "Він навчався у Москві."),
    ("bg", "Москва отхвърли обвиненията.", "Изложбата се откри в Москва."),
    ("pl", "Moskwa odrzuciła oskarżenia.", "Koncert odbył się w Moskwie."),
    ("cs", "Moskva odmítla obvinění.", "Studoval v Moskvě."),
    ("sk", "Moskva odmietla obvinenia.", "Hral na turnaji v Moskve."),
    ("sl", "Moskva je zavrnila obtožbe.", "Tekma je bila v Moskvi."),
    ("hr", "Moskva je odbacila optužbe.", "Utakmica je odigrana u Moskvi."),
    ("lt", "Maskva atmetė kaltinimus.", "Derybos vyko Maskvoje."),
    ("lv", "Maskava noraidīja apsūdzības.", "Sarunas notika Maskavā."),
    ("fi", "Moskova kiisti syytökset.", "Hän asui Moskovassa kymmenen vuotta."),
    ("fi", "Moskovan päätös yllätti Brysselin.", "Ministeri matkusti Moskovaan."),
    ("et", "Moskva lükkas süüdistused tagasi.", "Miks sa Moskvasse ei läinud?"),
    ("hu", "Moszkva elutasította a vádakat.", "A koncertet Moszkvában tartották."),
    ("tr", "Moskova suçlamaları reddetti.", "Moskova'da bir konser verildi."),
    ("el", "Η Μόσχα απέρριψε τις κατηγορίες.", "Σπούδασε στη Μόσχα."),
    ("sq", "Moska hodhi poshtë akuzat.", "Ai studioi në Moskë."),
    ("id", "Moskwa membantah tuduhan tersebut.", "Dia belajar di Moskwa selama dua tahun."),
    ("tl", "Itinanggi ng Moscow ang mga paratang.", "Nag-aral siya sa Moscow."),
    ("vi", "Mát-xcơ-va bác bỏ các cáo buộc.", "Anh ấy học ở Mát-xcơ-va."),
    ("he", "מוסקבה הכחישה את ההאשמות.", "הוא למד במוסקבה."),
    ("ar", "نفت موسكو الاتهامات.", "درس في موسكو لسنوات."),
    ("ar", "نفت موسكو الاتهامات.", "عاش بموسكو طويلا."),
    ("fa", "مسکو این اتهامات را رد کرد.", "او در مسکو درس خواند."),
    ("fa", "مسکو این اتهامات را رد کرد.", "آنها خانه‌ای در نزدیکی مسکو خریدند."),
    ("ur", "ماسکو نے الزامات مسترد کر دیے۔", "وہ ماسکو میں رہتا ہے۔"),
    ("hi", "मॉस्को ने आरोपों को खारिज किया।", "वह मॉस्को में रहता है।"),
    ("ta", "மாஸ்கோ குற்றச்சாட்டுகளை மறுத்தது.", "அவர் மாஸ்கோவில் படித்தார்."),
    ("ko", "모스크바는 이를 부인했다.", "모스크바에서 회담이 열렸다."),
    ("ja", "モスクワは疑惑を否定した。", "モスクワで会議が開かれた。"),
    ("zh", "莫斯科否认了指控。", "他在莫斯科学习。"),
    ("sw", "Moscow imekanusha madai hayo.", "Alisoma katika Moscow."),
]


# The capital as a place inside a longer phrase: a direction, near, the outskirts, the centre or the streets, the
# mayor, the metro, distance, local time; before the capital ("south of") or after its genitive ("Moskovan
# lähellä"). Beside each, a sentence of the same language where the capital is the state. Written for these tests.
PHRASE_PAIRS = [
    ("en", "Moscow's envoy left the south of the talks unresolved.", "The plant lies 40 km south of Moscow."),
    ("en", "Moscow time and patience ran out, officials said.", "The bomb hit a depot on the outskirts of Moscow."),
    ("en", "Moscow accused the mayor of Kyiv of lying.", "The Moscow metro will open two stations."),
    ("en", "The deal is at the heart of Moscow's strategy.", "Snow fell on the streets of Moscow."),
    ("de", "Moskau drohte mit Gegenmaßnahmen.", "Das Dorf liegt südlich von Moskau."),
    ("fr", "Moscou a dénoncé les sanctions.", "L'usine se trouve au sud de Moscou."),
    ("es", "Moscú denunció las sanciones.", "La fábrica está cerca de Moscú."),
    ("it", "Mosca ha denunciato le sanzioni.", "La fabbrica si trova a sud di Mosca."),
    ("pl", "Moskwa potępiła sankcje.", "Fabryka leży na południe od Moskwy."),
    ("cs", "Moskva odsoudila sankce.", "Továrna leží jižně od Moskvy."),
    ("ru", "Москва осудила санкции.", "Завод находится к югу от Москвы."),
    ("ru", "Москва пригрозила ответом.", "На улицах Москвы выпал снег."),
    ("uk", "Москва засудила санкції.", "Завод розташований на південь від Москви."),
    ("bg", "Москва осъди санкциите.", "Заводът е на 40 км от Москва."),
    ("el", "Η Μόσχα καταδίκασε τις κυρώσεις.", "Το εργοστάσιο βρίσκεται νότια της Μόσχας."),
    ("sw", "Moscow imelaani vikwazo hivyo.", "Kiwanda kiko kusini mwa Moscow."),
    ("id", "Moskow mengecam sanksi itu.", "Pabrik itu berada di dekat Moskow."),
    ("fi", "Moskovan päätös yllätti kaikki.", "Tehdas sijaitsee Moskovan lähellä."),
    ("fi", "Moskova vastusti ehdotusta.", "Moskovan kaduilla satoi lunta."),
    ("et", "Moskva mõistis sanktsioonid hukka.", "Tehas asub Moskva lähedal."),
    ("hu", "Moszkva elítélte a szankciókat.", "A gyár Moszkva közelében van."),
    ("tr", "Moskova yaptırımları kınadı.", "Fabrika Moskova'nın güneyinde bulunuyor."),
    ("lt", "Maskvos sprendimas nustebino Briuselį.", "Maskvos centre iškrito sniegas."),
    ("hi", "मॉस्को ने प्रतिबंधों की निंदा की।", "कारखाना मॉस्को के दक्षिण में है।"),
    ("hi", "मॉस्को के निकट सहयोगी ने प्रस्ताव रखा।", "कारखाना मॉस्को के बाहरी इलाके में है।"),
    ("gu", "મોસ્કો પાસે ઘણાં શસ્ત્રો છે.", "કારખાનું મોસ્કો નજીક છે."),
    ("fi", "Moskova kiisti kaiken.", "Tehdas on lähellä Moskovaa."),
    ("pa", "ਮਾਸਕੋ ਨੇ ਪਾਬੰਦੀਆਂ ਦੀ ਨਿੰਦਾ ਕੀਤੀ।", "ਮਾਸਕੋ ਦੀਆਂ ਸੜਕਾਂ ਤੇ ਬਰਫ਼ ਪਈ।"),
    ("ko", "모스크바의 결정은 놀라웠다.", "그는 모스크바의 한 연구소에서 일했다."),
    ("ko", "모스크바는 남부 전선에서 공세를 폈다.", "모스크바 외곽에서 화재가 났다."),
    ("ja", "モスクワは制裁を非難した。", "工場はモスクワ郊外にある。"),
]


@pytest.mark.parametrize(("language", "state", "city"), PAIRS + PHRASE_PAIRS)
def test_a_capital_counts_as_the_state_not_as_the_city(matcher: Matcher, language: str, state: str, city: str) -> None:
    assert "ru-state" in matcher.match(state, language), (language, state)
    assert "ru-state" not in matcher.match(city, language), (language, city)
    assert "ru-any" in matcher.match(city, language), (language, city)  # any: the city counts too
    assert "ru" not in matcher.match(state, language)  # no capitals: neither counts


OTHER_CAPITALS = [
    ("de", "Pjöngjang droht mit weiteren Atomtests.", "kp-state", True),
    ("de", "Die Parade fand in Pjöngjang statt.", "kp-state", False),
    ("en", "Berlin wants a new budget rule.", "de-state", True),
    ("en", "The concert in Berlin was sold out.", "de-state", False),
    ("fi", "Berliini vastusti ehdotusta.", "de-state", True),
    ("fi", "Konsertti pidettiin Berliinissä.", "de-state", False),
    ("ko", "평양은 한미 연합훈련을 비난했다.", "kp-state", True),
    ("ko", "평양에서 열병식이 열렸다.", "kp-state", False),
    # The country's own name counts in any sense: the rule is for capitals only.
    ("en", "He studied in Russia.", "ru-state", True),
    ("ru", "Он учился в России.", "ru-state", True),
]


@pytest.mark.parametrize(("language", "text", "topic", "expected"), OTHER_CAPITALS)
def test_other_capitals_and_names(matcher: Matcher, language: str, text: str, topic: str, expected: bool) -> None:
    assert (topic in matcher.match(text, language)) is expected, (language, text)


def test_all_groups_take_the_state_sense_too(matcher: Matcher) -> None:
    assert "summit" in matcher.match("Kim met officials; Moscow said the talks went well.", "en")
    assert "summit" not in matcher.match("Kim arrived in Moscow on Tuesday.", "en")


@pytest.mark.parametrize(
    ("language", "text", "capital", "expected"),
    [
        ("fi", "Helsinki päätti", "helsinki", True),
        ("fi", "muutti Helsinkiin", "helsinki", False),  # illative: the last vowel doubled, then n
        ("fi", "Helsingin kanta", "helsin", True),  # the genitive is not a place
        ("eu", "Moskun bizi zen", "mosku", False),
        ("eu", "Moskuk ukatu du", "mosku", True),
        ("th", "มอสโกปฏิเสธข้อกล่าวหา", "มอสโก", True),
        ("th", "การประชุมในกรุงมอสโก", "มอสโก", False),
        # A list of places after one preposition, in several languages; a list with none, or a sentence that
        # opens with a phrase, is no place.
        ("en", "Talks in Paris, London and Moscow failed", "moscow", False),
        ("en", "Berlin, Paris and Moscow said no", "moscow", True),
        ("en", "In March, Kyiv and Moscow said no", "moscow", True),
        ("en", "In 2019, Moscow said no", "moscow", True),
        ("sk", "Funguje to aj v Prahe, Viedni či Moskve.", "moskv", False),
        ("sk", "Praha, Viedeň či Moskva to odmietli.", "moskv", True),
        ("de", "Er lebte in Wien, Prag und Moskau.", "moskau", False),
        ("de", "Wien, Prag und Moskau lehnten ab.", "moskau", True),
        ("ru", "Он жил в Праге, Вене и Москве.", "москв", False),
        ("ru", "Прага, Вена и Москва отказались.", "москв", True),
    ],
)
def test_as_state_decides_one_hit(language: str, text: str, capital: str, expected: bool) -> None:
    norm = normalize(text).text
    start = norm.index(capital[:4])
    assert as_state(norm, start, start + len(capital), language, capital) is expected


def test_capitals_takes_true_false_or_any(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text("topics:\n  t:\n    countries: [RU]\n    capitals: sometimes\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="capitals"):
        load_topics(path)
