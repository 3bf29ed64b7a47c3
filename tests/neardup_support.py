"""Short wire stories written for the near-duplicate tests (not corpus text): their copies and same-template strangers.

Each story is about 120 words in paragraphs, as a wire desk files it. ``TEMPLATE`` is a desk's dateline and
disclaimer (31 words) that two unrelated stories of one outlet share.
"""

from __future__ import annotations

FLOOD = """Flood waters rose across the northern districts on Tuesday after three days of heavy rain, forcing 4,200 \
residents to leave their homes, the regional emergency office said.

Rescue teams in boats reached villages cut off by the swollen river, and two temporary shelters opened in school \
buildings near the town centre.

Officials said 17 roads remained closed and the rail line to the coast was suspended until engineers could \
inspect two bridges.

The weather service expects the rain to ease by Thursday but warned that the river would stay above its danger \
mark for several more days. Farmers reported losses to rice and sugarcane crops over a wide area.

The state government has promised compensation and sent additional medical teams to the worst hit areas."""

PORT = """Dock workers at the country's largest container port began a 48-hour strike on Monday over pay and night \
shifts, halting the loading of ships bound for Europe and Asia, their union said.

About 3,000 members walked off the job after talks with the port authority broke down late on Sunday without an \
agreement on overtime rates.

Shipping agents said at least nine vessels were waiting at anchor outside the harbour, and some lines had begun \
diverting cargo to smaller ports along the coast.

The transport minister urged both sides to return to negotiations and said the government was ready to appoint a \
mediator. Exporters of fruit and textiles warned that a longer stoppage would cost them orders.

The union said it would decide on further action at a meeting on Wednesday."""

# Finnish, written for these tests: Helsinki builds three day-care centres; a council decision in December.
PAIVAKODIT = """Helsingin kaupunki aikoo rakentaa kolme uutta päiväkotia itäisiin kaupunginosiin vuoteen 2028 \
mennessä, kertoi kaupungin kasvatuksen ja koulutuksen toimiala tiistaina. Hankkeen arvioidaan maksavan noin 45 \
miljoonaa euroa.

Uusiin päiväkoteihin tulee yhteensä 600 hoitopaikkaa, ja ensimmäisen rakennuksen työt alkavat ensi keväänä \
Vuosaaressa. Kaupungin mukaan lasten määrä alueella on kasvanut nopeasti, ja monet perheet ovat joutuneet \
odottamaan hoitopaikkaa useita kuukausia.

Apulaispormestari sanoi tiedotustilaisuudessa, että rakentamisessa käytetään puuta ja aurinkopaneeleja, jotta \
rakennusten energiankulutus pysyisi pienenä.

Opposition edustajat arvostelivat suunnitelmaa, koska henkilöstön palkkaamiseen ei ole varattu riittävästi rahaa. \
Varhaiskasvatuksen opettajista on pulaa koko pääkaupunkiseudulla, ja osa nykyisistä ryhmistä toimii jo nyt \
vajaalla henkilökunnalla.

Päätös hankkeen rahoituksesta tehdään kaupunginvaltuustossa joulukuussa."""

# Finnish: a ferry line adds winter sailings; same desk as PAIVAKODIT, unrelated news.
LAUTTA = """Varustamo lisää talveksi kaksi uutta vuoroa Helsingin ja Tallinnan välille, koska matkustajamäärät ovat \
kasvaneet syksyn aikana selvästi, yhtiö kertoi maanantaina.

Uudet vuorot lähtevät aamulla ja myöhään illalla, ja niillä voi kuljettaa myös rekkoja. Yhtiön mukaan lokakuussa \
laivoilla matkusti lähes 20 prosenttia enemmän ihmisiä kuin vuotta aiemmin.

Satamaoperaattori valmistautuu ruuhkiin laajentamalla terminaalin pysäköintialuetta ja lisäämällä lipunmyyntiä \
automaateilla.

Ympäristöjärjestöt muistuttivat, että liikenteen kasvu lisää päästöjä Suomenlahdella, ja vaativat varustamoa \
nopeuttamaan siirtymistä vähäpäästöisiin polttoaineisiin. Yhtiö vastasi, että sen uusin alus käyttää jo \
nesteytettyä maakaasua.

Talviaikataulu tulee voimaan tammikuun alussa ja on voimassa maaliskuun loppuun."""

TEMPLATE = (
    "NEW DELHI, Dec 1 (Wirewatch Syndication): The following report was received from our partner desk.",
    "This story has not been edited by our staff and is published from a syndicated wire feed.",
)

TEMPLATE_FI = (
    "HELSINKI, 1. joulukuuta (Uutispalvelu): Seuraava juttu on saatu yhteistyökumppanimme uutispöydältä.",
    "Tätä juttua ei ole toimitettu toimituksessamme, ja se julkaistaan uutistoimiston syötteestä sellaisenaan.",
)

CREDITS = (
    "(ANI)",
    "— Reuters",
    "Copyright 2026 AP. All rights reserved.",
    "Reporting by Anna Virtanen; Editing by Ravi Menon",
)


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def join(paras: list[str]) -> str:
    return "\n\n".join(paras)


def edit_number(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} must occur once"
    return text.replace(old, new)


def with_credit(text: str, credit: str) -> str:
    return join([*paragraphs(text), credit])


def with_template(text: str, template: tuple[str, str] = TEMPLATE) -> str:
    return join([template[0], *paragraphs(text), template[1]])


def drop_last_paragraph(text: str) -> str:
    return join(paragraphs(text)[:-1])
