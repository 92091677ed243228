"""Word lists for `crmapi demo-data`: Polish names first, some German, Czech, French, Spanish and Nordic.

Each person list is (first names female, first names male, surnames); a Polish surname is given in
its male form and `feminine` derives the female one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    phone_prefix: str
    time_zone: str
    female: tuple[str, ...]
    male: tuple[str, ...]
    surnames: tuple[str, ...]
    # (city, postal code pattern with # for a digit, region)
    cities: tuple[tuple[str, str, str], ...]
    streets: tuple[str, ...]
    legal_forms: tuple[str, ...]
    tld: str


def _w(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _p(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("|"))


POLAND = Country(
    code="PL",
    phone_prefix="+48",
    time_zone="Europe/Warsaw",
    female=_w(
        "Anna Maria Katarzyna Małgorzata Agnieszka Barbara Ewa Krystyna Magdalena Elżbieta Joanna "
        "Aleksandra Monika Zofia Teresa Danuta Natalia Karolina Marta Beata Dorota Halina Jadwiga "
        "Julia Alicja Justyna Paulina Iwona Grażyna Weronika Bożena Łucja Urszula Wiesława Jolanta"
    ),
    male=_w(
        "Piotr Krzysztof Andrzej Tomasz Jan Paweł Michał Marcin Stanisław Jakub Adam Marek Łukasz "
        "Grzegorz Mateusz Wojciech Mariusz Dariusz Zbigniew Jerzy Maciej Rafał Kamil Robert Józef "
        "Szymon Kacper Bartosz Dawid Sebastian Bogusław Przemysław Zdzisław Mieczysław Witold"
    ),
    surnames=_w(
        "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak "
        "Dąbrowski Kozłowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk Kaczmarek Piotrowski "
        "Grabowski Zając Pawłowski Michalski Król Wieczorek Jabłoński Wróbel Nowakowski Majewski "
        "Olszewski Stępień Malinowski Jaworski Adamczyk Dudek Nowicki Pawlak Górski Witkowski Walczak "
        "Sikora Baran Rutkowski Michalak Szewczyk Ostrowski Tomaszewski Pietrzak Marciniak Wróblewski "
        "Zalewski Jakubowski Jasiński Zawadzki Sadowski Bąk Chmielewski Włodarczyk Borkowski Czarnecki "
        "Sawicki Sokołowski Urbański Kubiak Maciejewski Szczepański Kucharski Wilk Kalinowski Lis "
        "Mazurek Wysocki Adamski Kaźmierczak Wasilewski Sobczak Czerwiński Andrzejewski Cieślak "
        "Głowacki Zakrzewski Kołodziej Śliwiński Żak Łuczak Ćwikliński Źrałek Gęborski Błaszczyk"
    ),
    cities=(
        ("Warszawa", "0#-###", "mazowieckie"),
        ("Kraków", "3#-###", "małopolskie"),
        ("Łódź", "9#-###", "łódzkie"),
        ("Wrocław", "5#-###", "dolnośląskie"),
        ("Poznań", "6#-###", "wielkopolskie"),
        ("Gdańsk", "80-###", "pomorskie"),
        ("Szczecin", "7#-###", "zachodniopomorskie"),
        ("Bydgoszcz", "85-###", "kujawsko-pomorskie"),
        ("Lublin", "20-###", "lubelskie"),
        ("Białystok", "15-###", "podlaskie"),
        ("Katowice", "40-###", "śląskie"),
        ("Gdynia", "81-###", "pomorskie"),
        ("Rzeszów", "35-###", "podkarpackie"),
        ("Toruń", "87-###", "kujawsko-pomorskie"),
        ("Kielce", "25-###", "świętokrzyskie"),
        ("Olsztyn", "10-###", "warmińsko-mazurskie"),
        ("Opole", "45-###", "opolskie"),
        ("Zielona Góra", "65-###", "lubuskie"),
        ("Częstochowa", "42-###", "śląskie"),
        ("Gorzów Wielkopolski", "66-###", "lubuskie"),
    ),
    streets=_p(
        "ul. Marszałkowska|ul. Piłsudskiego|ul. Mickiewicza|ul. Słowackiego|ul. Kościuszki|ul. Długa|"
        "ul. Polna|ul. Leśna|ul. Ogrodowa|ul. Lipowa|ul. Kwiatowa|ul. Szkolna|ul. Kolejowa|"
        "ul. Sienkiewicza|al. Jana Pawła II|ul. 3 Maja|al. Wojska Polskiego|ul. Grunwaldzka|"
        "ul. Żeromskiego|ul. Źródlana|ul. Świętokrzyska|ul. Łąkowa|pl. Wolności"
    ),
    legal_forms=("sp. z o.o.", "sp. z o.o.", "sp. z o.o.", "S.A.", "sp. j.", "s.c.", "sp. k."),
    tld="pl",
)

GERMANY = Country(
    code="DE",
    phone_prefix="+49",
    time_zone="Europe/Berlin",
    female=_w("Käthe Ute Sabine Bärbel Anke Renate Claudia Jördis Gisela Hannelore"),
    male=_w("Jürgen Jörg Günter Stefan Matthias Uwe Björn Klaus Dieter Sönke"),
    surnames=_w("Müller Schäfer Köhler Weiß Groß Schröder Krüger Böhm Jäger Möller Hoß Fuchs"),
    cities=(
        ("Berlin", "1####", "Berlin"),
        ("München", "8####", "Bayern"),
        ("Köln", "5####", "Nordrhein-Westfalen"),
        ("Düsseldorf", "4####", "Nordrhein-Westfalen"),
        ("Görlitz", "02###", "Sachsen"),
    ),
    streets=_p("Hauptstraße|Bahnhofstraße|Schloßallee|Gartenweg|Mühlenstraße|Königstraße"),
    legal_forms=("GmbH", "GmbH & Co. KG", "AG", "e.K."),
    tld="de",
)

CZECHIA = Country(
    code="CZ",
    phone_prefix="+420",
    time_zone="Europe/Prague",
    female=_w("Jana Zuzana Tereza Lucie Věra Kateřina Markéta"),
    male=_w("Jiří Petr Tomáš Lukáš Ondřej Vojtěch Miloš"),
    surnames=_w("Dvořák Novotný Svoboda Černý Procházka Kučera Veselý Horák Němec Růžička"),
    cities=(
        ("Praha", "1## ##", "Praha"),
        ("Brno", "6## ##", "Jihomoravský"),
        ("Ostrava", "7## ##", "Moravskoslezský"),
    ),
    streets=_p("Václavské náměstí|Národní třída|Husova|Palackého|Masarykova"),
    legal_forms=("s.r.o.", "a.s."),
    tld="cz",
)

FRANCE = Country(
    code="FR",
    phone_prefix="+33",
    time_zone="Europe/Paris",
    female=_w("Zoé Hélène Céline Chloé Léa Margaux Noémie"),
    male=_w("François Jérôme Loïc Raphaël Benoît Léon Gaël"),
    surnames=_w("Lefèvre Girard Dubois Bézier Méndès Mercier Fournier Lemaître Garçon"),
    cities=(
        ("Paris", "75###", "Île-de-France"),
        ("Lyon", "69###", "Auvergne-Rhône-Alpes"),
        ("Besançon", "25###", "Bourgogne-Franche-Comté"),
    ),
    streets=_p("rue de la Paix|avenue des Champs-Élysées|rue Saint-Honoré|boulevard Hérault"),
    legal_forms=("SARL", "SAS", "SA"),
    tld="fr",
)

SPAIN = Country(
    code="ES",
    phone_prefix="+34",
    time_zone="Europe/Madrid",
    female=_w("María Lucía Sofía Inés Begoña Ángela"),
    male=_w("José Ramón Álvaro Sergio Íñigo Andrés"),
    surnames=_w("García Núñez Pérez Martínez Gómez Jiménez Muñoz Sánchez Ibáñez"),
    cities=(
        ("Madrid", "28###", "Madrid"),
        ("Málaga", "29###", "Andalucía"),
        ("Córdoba", "14###", "Andalucía"),
    ),
    streets=_p("Calle Mayor|Avenida de la Constitución|Calle de Alcalá|Paseo del Prado"),
    legal_forms=("S.L.", "S.A."),
    tld="es",
)

NORDICS = Country(
    code="DK",
    phone_prefix="+45",
    time_zone="Europe/Copenhagen",
    female=_w("Søs Åse Mette Birgitte Maja Sørine"),
    male=_w("Søren Bjørn Jørgen Mads Anders Øystein"),
    surnames=_w("Sørensen Jørgensen Møller Kjærgaard Bøgh Højgaard Østergaard"),
    cities=(
        ("København", "1###", "Hovedstaden"),
        ("Aarhus", "8###", "Midtjylland"),
        ("Ålborg", "9###", "Nordjylland"),
    ),
    streets=_p("Østergade|Nørrebrogade|Vestergade|Søndergade|Åboulevard"),
    legal_forms=("ApS", "A/S"),
    tld="dk",
)

# Most contacts are Polish; the rest spread over the neighbours and trading partners.
COUNTRIES: tuple[tuple[Country, float], ...] = (
    (POLAND, 0.82),
    (GERMANY, 0.07),
    (CZECHIA, 0.04),
    (FRANCE, 0.03),
    (SPAIN, 0.02),
    (NORDICS, 0.02),
)

_POLISH_FEMININE = (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka"))


def feminine(country: Country, surname: str) -> str:
    """The female form of a surname (Polish -ski/-cki/-dzki; Czech -ý and -ová)."""
    if country is POLAND:
        for male, female in _POLISH_FEMININE:
            if surname.endswith(male):
                return surname[: -len(male)] + female
    if country is CZECHIA:
        if surname.endswith("ý"):
            return surname[:-1] + "á"
        return (surname[:-1] if surname.endswith("a") else surname) + "ová"
    return surname


# Company names: a prefix (or a founder's surname) and a trade.
COMPANY_PREFIXES = _w(
    "Pol Euro Mazowsze Bałtyk Tatra Wisła Orzeł Sokół Jantar Inter Nova Delta Alfa Omega Piast "
    "Śnieżka Żuraw Łabędź Gród Kujawy Podhale Warta Odra Sudety Mazury Kaszuby Śląsk Wawel"
)
COMPANY_TRADES = _p(
    "Transport|Logistyka|Budownictwo|Serwis|Consulting|Meble|Druk|Software|Energia|Medical|Invest|"
    "Trade|Auto|Agro|Instal|Catering|Hurtownia Spożywcza|Elektro|Stal|Farmacja|Okna i Drzwi|Papier|"
    "Chemia|Opakowania|Tekstylia"
)
FOREIGN_TRADES = _p("Logistik|Handel|Technik|Systems|Trading|Distribution|Bau|Export")
FREE_MAIL = ("gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "op.pl", "outlook.com", "gmx.de")
JOB_TITLES = _p(
    "Prezes zarządu|Dyrektor handlowy|Kierownik zakupów|Specjalista ds. sprzedaży|Główna księgowa|"
    "Kierownik projektu|Właściciel|Office manager|Dyrektor finansowy|Asystentka zarządu|"
    "Koordynator logistyki|Przedstawiciel handlowy|Inżynier budowy|Kierownik magazynu|Purchasing manager"
)
LINK_ROLES = ("buyer", "accounting", "management", "warehouse", "technical")

# The tag catalogue: name, colour, and the share of contacts / accounts that carry it.
TAGS: tuple[tuple[str, str, float, float], ...] = (
    ("VIP", "#D81B60", 0.04, 0.10),
    ("klient", "#43A047", 0.30, 0.35),
    ("newsletter", "#1E88E5", 0.22, 0.0),
    ("b2b", "#3949AB", 0.18, 0.25),
    ("hurt", "#6D4C41", 0.06, 0.20),
    ("detal", "#FB8C00", 0.05, 0.10),
    ("targi-2026-Kraków", "#8E24AA", 0.07, 0.0),
    ("partner", "#00897B", 0.04, 0.06),
    ("dostawca", "#546E7A", 0.03, 0.0),
    ("do-kontaktu", "#FDD835", 0.08, 0.05),
    ("eksport", "#00ACC1", 0.03, 0.08),
    ("zaległe-płatności", "#E53935", 0.0, 0.07),
)

INDUSTRIES = (
    "logistics",
    "construction",
    "retail",
    "manufacturing",
    "software",
    "healthcare",
    "agriculture",
    "energy",
    "finance",
    "hospitality",
)
# Polish voivodeships (and foreign regions, by their country) per the `region` account field.
REGIONS = ("north", "south", "east", "west", "central")
VOIVODESHIP_REGION = {
    "mazowieckie": "central",
    "łódzkie": "central",
    "świętokrzyskie": "central",
    "małopolskie": "south",
    "śląskie": "south",
    "podkarpackie": "south",
    "opolskie": "south",
    "dolnośląskie": "west",
    "wielkopolskie": "west",
    "lubuskie": "west",
    "zachodniopomorskie": "north",
    "pomorskie": "north",
    "kujawsko-pomorskie": "north",
    "warmińsko-mazurskie": "north",
    "podlaskie": "east",
    "lubelskie": "east",
}

CLASSIFICATIONS = (
    ("wholesale", 0.35),
    ("retail", 0.25),
    ("distributor", 0.15),
    ("service", 0.15),
    ("public sector", 0.10),
)
CREDIT_RATINGS = (("A", 0.25), ("B", 0.4), ("C", 0.25), ("D", 0.1))
PAYMENT_TERMS = (
    ("prepayment", 0.1),
    ("7 days net", 0.15),
    ("14 days net", 0.35),
    ("30 days net", 0.3),
    ("60 days net", 0.1),
)
PAYMENT_METHODS = ("transfer", "card", "BLIK", "cash", "cash on delivery")
PRICE_LEVELS = (("A", 0.15), ("B", 0.35), ("C", 0.35), ("retail", 0.15))
STATUSES = (("active", 0.88), ("on_hold", 0.08), ("closed", 0.04))
SALES_REP_CODES = tuple(f"PH{n:02d}" for n in range(1, 9))

NOTES = _p(
    "Rozmowa telefoniczna: prosi o ofertę na {item} do końca tygodnia.|"
    "Spotkanie w siedzibie klienta, omówiliśmy warunki płatności ({terms}).|"
    "Wysłano cennik na {year} r.; czekamy na odpowiedź.|"
    "Klient zgłasza opóźnienie dostawy, przekazano do logistyki.|"
    "Zaległa faktura FV/{number}/{year} — obiecana wpłata w piątek.|"
    "Poznaliśmy się na targach w Poznaniu, zainteresowani współpracą.|"
    "Prośba o zwiększenie limitu kredytowego do {limit} zł.|"
    "Zmiana osoby kontaktowej w dziale zakupów.|"
    "Reklamacja towaru z dostawy {number} — uznana, wysłano korektę.|"
    "Umówiona prezentacja produktu na przyszły wtorek, godz. 10:00.|"
    "Called about the overdue invoice; they pay on Friday.|"
    "Sent the updated price list; they compare it with a competitor's offer.|"
    "Klient pyta o rabat przy zamówieniu powyżej {limit} zł.|"
    "Nowy adres do korespondencji — zaktualizować w ERP.|"
    "Podziękowania za szybką realizację zamówienia {number}."
)
NOTE_ITEMS = _p("palety EUR|materiały biurowe|usługę serwisową|100 szt. okien|transport chłodniczy|licencje")

# The custom fields the demo defines; records carry values for them.
CUSTOM_FIELDS: tuple[dict[str, Any], ...] = (
    {
        "kind": "contact",
        "key": "industry",
        "label": "Industry",
        "type": "select",
        "options": list(INDUSTRIES),
    },
    {"kind": "contact", "key": "linkedin", "label": "LinkedIn profile", "type": "text", "options": []},
    {
        "kind": "account",
        "key": "region",
        "label": "Sales region",
        "type": "select",
        "options": list(REGIONS),
    },
    {"kind": "account", "key": "employees", "label": "Employees", "type": "number", "options": []},
    {"kind": "account", "key": "vip_since", "label": "VIP since", "type": "date", "options": []},
)
