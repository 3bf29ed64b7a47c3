"""Phrases of place around a capital, rule 6 of ``workers.filter.capitals``: the capital is the city when it ends
one of ``PLACE_PHRASE_BEFORE`` ("south of Moscow") or its word is followed by one of ``PLACE_PHRASE_AFTER``
("Moskovan lähellä"). Closed lists per language, tested in tests/unit/filter/test_capitals.py."""

from __future__ import annotations

from workers.filter.textnorm import normalize_term

# 6. The capital as a place in a longer phrase: what stands before it, ending right at it ("south of Moscow",
# "к югу от Москвы", "na południe od Moskwy", "kusini ya Moscow"), or what follows its word, in the languages
# that put a genitive before its head ("Moskovan lähellä", "Moskova'nın güneyinde", "मॉस्को के दक्षिण", "ਮਾਸਕੋ ਦੀਆਂ
# ਸੜਕਾਂ", "Maskvos centre"). Each list holds the same few classes in every language, nothing else: the four
# directions, near, outside and the outskirts, the centre and the streets, the city's mayor, metro and region,
# distance ("100 km from"), and the local time; a "|" separates the phrases, a space the words of one.
# Words that also say "has" or "to" a person (Hindi के निकट "close ally of", Gujarati પાસે, Telugu దగ్గర, Kannada
# ಬಳಿ, Malayalam അടുത്ത്, Marathi जवळ, Bengali কাছে) are left out: "Moscow has", "an appeal to Moscow" are the state.
DIRECTIONS_FROM_RU = "к югу от|к северу от|к востоку от|к западу от|южнее|севернее|восточнее|западнее"
SOUTH_SLAVIC_PHRASES = (
    "južno od|sjeverno od|severno od|istočno od|zapadno od|blizu|nedaleko od|km od|kilometara od|centru|"
    "ulicama|predgrađu|gradonačelnik|gradonačelnika|јужно од|северно од|источно од|западно од|близу|км од|"
    "центру|улицама|предграђу"
)


def _phrase_table(phrases_of: dict[str, str]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Per language, its "|"-separated phrases as tuples of words normalised as story text is."""
    return {
        lang: tuple(tuple(normalize_term(p).split()) for p in phrases.split("|") if p.strip())
        for lang, phrases in phrases_of.items()
    }


PLACE_PHRASE_BEFORE = _phrase_table(
    {
        "en": "south of|north of|east of|west of|southeast of|southwest of|northeast of|northwest of|outskirts of|"
        "suburbs of|suburb of|centre of|center of|streets of|mayor of|km from|kilometres from|"
        "kilometers from|miles from|outside of",
        "de": "südlich von|nördlich von|östlich von|westlich von|südlich|nördlich|östlich|westlich|außerhalb von|"
        "km von|kilometer von|stadtrand von|zentrum von|bürgermeister von|unweit von|unweit|nahe|nahe von",
        "nl": "ten zuiden van|ten noorden van|ten oosten van|ten westen van|buiten|nabij|centrum van|straten van|"
        "burgemeester van|km van|kilometer van|vlak bij|dicht bij",
        "sv": "söder om|norr om|öster om|väster om|sydväst om|nordväst om|nära|centrala|km från|kilometer från",
        "no": "sør for|nord for|øst for|vest for|nær|sentrum av|km fra|kilometer fra",
        "da": "syd for|nord for|øst for|vest for|nær|centrum af|km fra|kilometer fra",
        "fr": "au sud de|au nord de|à l'est de|à l'ouest de|près de|banlieue de|périphérie de|centre de|rues de|"
        "maire de|km de|kilomètres de|région de|environs de",
        "es": "al sur de|al norte de|al este de|al oeste de|cerca de|afueras de|centro de|calles de|alcalde de|"
        "alcaldesa de|km de|kilómetros de|región de|alrededores de|metro de",
        "pt": "sul de|norte de|leste de|oeste de|perto de|arredores de|centro de|ruas de|prefeito de|presidente da "
        "câmara de|km de|quilômetros de|quilómetros de|região de|metrô de|metro de",
        "gl": "ao sur de|ao norte de|preto de|cerca de|arredores de|centro de|rúas de|km de",
        "it": "a sud di|a nord di|a est di|a ovest di|vicino a|nei pressi di|periferia di|centro di|strade di|"
        "sindaco di|km da|chilometri da|alle porte di",
        "ca": "al sud de|al nord de|a l'est de|a l'oest de|prop de|a prop de|afores de|centre de|carrers de|"
        "alcalde de|km de|quilòmetres de",
        "ro": "la sud de|la nord de|la est de|la vest de|lângă|aproape de|în apropiere de|centrul|străzile|"
        "primarul|km de|kilometri de|periferia",
        "pl": "na południe od|na północ od|na wschód od|na zachód od|koło|niedaleko|nieopodal|w pobliżu|centrum|"
        "ulicach|ulice|przedmieściach|km od|kilometrów od|mer|mera|merem|metra",
        "cs": "jižně od|severně od|východně od|západně od|nedaleko|poblíž|blízko|centru|ulicích|ulice|km od|"
        "kilometrů od|předměstí|primátor|primátora|metra",
        "sk": "južne od|severne od|východne od|západne od|neďaleko|blízko|centre|uliciach|ulice|km od|"
        "kilometrov od|predmestí|primátor|primátora|metra",
        "sl": "južno od|severno od|vzhodno od|zahodno od|blizu|središču|ulicah|km od|kilometrov od|predmestju|"
        "župan|župana",
        "hr": SOUTH_SLAVIC_PHRASES,
        "bs": SOUTH_SLAVIC_PHRASES,
        "sr": SOUTH_SLAVIC_PHRASES,
        "ru": DIRECTIONS_FROM_RU + "|недалеко от|неподалеку от|неподалёку от|км от|километрах от|километров от|"
        "пригороде|пригородах|окрестностях|центре|центр|улицах|улицам|улицы|мэр|мэра|мэром|мэрии|метро",
        "uk": "на південь від|на північ від|на схід від|на захід від|неподалік від|неподалік|км від|кілометрах від|"
        "центрі|центр|вулицях|вулицями|передмісті|околицях|мер|мера|метро",
        "be": "на поўдзень ад|на поўнач ад|на ўсход ад|на захад ад|недалёка ад|км ад|цэнтры|вуліцах|мэр",
        "bg": "южно от|северно от|източно от|западно от|близо до|км от|километра от|центъра на|улиците на|"
        "кмета на|кмет на|покрайнините на|метрото на",
        "mk": "јужно од|северно од|источно од|западно од|близу|близу до|км од|центарот на|улиците на|"
        "градоначалникот на",
        "el": "νότια της|βόρεια της|ανατολικά της|δυτικά της|κέντρο της|κέντρου της|δρόμους της|δρόμοι της|"
        "δήμαρχος της|δήμαρχο της|χλμ από|χιλιόμετρα από|περίχωρα της|προάστια της",
        "sq": "në jug të|në veri të|në lindje të|në perëndim të|afër|qendër të|rrugët e|kryetari i bashkisë së",
        "id": "selatan|utara|timur|barat|dekat|pinggiran|pusat kota|jalan-jalan di|wali kota|km dari|"
        "kilometer dari|sekitar",
        "ms": "selatan|utara|timur|barat|dekat|pinggir|pusat bandar|datuk bandar|km dari|kilometer dari|sekitar",
        "tl": "timog ng|hilaga ng|silangan ng|kanluran ng|malapit sa|labas ng|sentro ng|mga kalye ng|alkalde ng",
        "vi": "phía nam|phía bắc|phía đông|phía tây|gần|ngoại ô|trung tâm|đường phố|thị trưởng",
        "sw": "kusini ya|kusini mwa|kaskazini ya|kaskazini mwa|mashariki ya|mashariki mwa|magharibi ya|"
        "magharibi mwa|karibu na|nje ya|katikati ya|mitaa ya|viunga vya|meya wa|kilomita kutoka",
        "so": "waqtiga|koonfurta|waqooyiga|bariga|galbeedka|duleedka|agagaarka|bartamaha|duqa",
        "fi": "lähellä|lähelle",
    }
)
PLACE_PHRASE_AFTER = _phrase_table(
    {
        "en": "region|oblast|metro|subway|airport|suburbs|outskirts|mayor|city hall|zoo|streets",
        "fi": "lähellä|lähistöllä|lähelle|liepeillä|laitamilla|keskustassa|keskustaan|kaduilla|eteläpuolella|"
        "pohjoispuolella|itäpuolella|länsipuolella|pormestari|metrossa|metro|alueella|seudulla|"
        "lentokentälle|lentokentällä",
        "et": "lähedal|lähedale|lähistel|kesklinnas|kesklinna|tänavatel|tänavad|lõunas|põhjas|idas|läänes|"
        "linnapea|metroos|äärelinnas|oblastis|aja järgi|reis|reisi|reisil|reisilt|reisiga",
        "hu": "közelében|környékén|környéki|melletti|központjában|belvárosában|utcáin|utcáit|"
        "polgármestere|metrójában|délre|északra|keletre|nyugatra|idő szerint",
        "tr": "yakınlarında|yakınında|civarında|merkezinde|sokaklarında|sokakları|güneyinde|kuzeyinde|"
        "doğusunda|batısında|banliyölerinde|belediye başkanı|metrosunda|havalimanında|saatiyle",
        "lt": "centre|centrą|gatvėse|gatvėmis|apylinkėse|priemiestyje|meras|mero|metro|srityje|srities|laiku|"
        "pietuose|šiaurėje|oro uoste",
        "lv": "centrā|ielās|apkaimē|tuvumā|mērs|metro|apgabalā|apgabala|dienvidos|ziemeļos|lidostā",
        "hi": "के दक्षिण|के उत्तर|के पूर्व|के पश्चिम|के बाहरी|के बाहर|के केंद्र|के मध्य|की सड़कों|"
        "की गलियों|के मेयर|के महापौर|के उपनगर|के हवाई अड्डे|के समय",
        "mr": "जवळील|च्या दक्षिणेस|च्या उत्तरेस|च्या रस्त्यांवर|चे महापौर",
        "ne": "नजिक|नजिकै|को दक्षिण|को उत्तर|को सडक|का सडक",
        "pa": "ਦੇ ਨੇੜੇ|ਦੇ ਦੱਖਣ|ਦੇ ਉੱਤਰ|ਦੇ ਬਾਹਰ|ਦੇ ਬਾਹਰੀ|ਦੇ ਕੇਂਦਰ|ਦੀਆਂ ਸੜਕਾਂ|ਦੀਆਂ ਗਲੀਆਂ|ਦੀ ਸੜਕ|ਦੇ ਮੇਅਰ",
        "ur": "کے قریب|کے نزدیک|کے جنوب|کے شمال|کے مشرق|کے مغرب|کے مضافات|کے باہر|کے مرکز|کی سڑکوں|کی گلیوں|کے میئر",
        "bn": "কাছাকাছি|দক্ষিণে|উত্তরে|শহরতলিতে|কেন্দ্রে|রাস্তায়|মেয়র",
        "gu": "નજીક|ની દક્ષિણે|ની ઉત્તરે|ના રસ્તાઓ|ના મેયર",
        "ta": "அருகே|அருகில்|தெற்கே|வடக்கே|புறநகர்|மையத்தில்|தெருக்களில்|மேயர்",
        "te": "సమీపంలో|దక్షిణాన|ఉత్తరాన|శివార్లలో|వీధుల్లో|మేయర్",
        "kn": "ಸಮೀಪ|ದಕ್ಷಿಣಕ್ಕೆ|ಉತ್ತರಕ್ಕೆ|ಹೊರವಲಯದಲ್ಲಿ|ಬೀದಿಗಳಲ್ಲಿ|ಮೇಯರ್",
        "ml": "സമീപം|തെക്ക്|വടക്ക്|പ്രാന്തപ്രദേശത്ത്|തെരുവുകളിൽ|മേയർ",
        "ko": "남쪽|북쪽|동쪽|서쪽|남부|북부|외곽|교외|근교|인근|근처|시내|도심|중심부|거리|시장|지하철|공항|"
        "연구소|대학|대학교|박물관|극장",
        "ja": "の南|の北|の東|の西|郊外|近郊|市内|中心部|の街|市長|の地下鉄|の空港|時間",
    }
)
# Korean writes the genitive 의 on the capital and compounds its nouns (화학기술연구소): a place noun may end the
# next word or the one after (모스크바의 멘델레예프 연구소), before a particle of the list below.
KO_PARTICLES = tuple("에서는 에서의 에서 으로 에는 에 의 을 를 은 는 이 가 로 과 와".split())
