"""Polish-ish fake contacts, shaped like a `POST /v1/contacts` body (used for COPY and for the create run)."""

from __future__ import annotations

import random
import re
from typing import Any


def _words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


FIRST_F = _words(
    "Anna Maria Katarzyna Małgorzata Agnieszka Barbara Ewa Krystyna Magdalena Elżbieta Joanna "
    "Aleksandra Monika Zofia Teresa Danuta Natalia Karolina Marta Beata Dorota Halina Jadwiga Julia "
    "Alicja Justyna Paulina Iwona Grażyna Weronika"
)
FIRST_M = _words(
    "Piotr Krzysztof Andrzej Tomasz Jan Paweł Michał Marcin Stanisław Jakub Adam Marek Łukasz "
    "Grzegorz Mateusz Wojciech Mariusz Dariusz Zbigniew Jerzy Maciej Rafał Kamil Robert Józef Szymon "
    "Kacper Bartosz Dawid Sebastian"
)
# Roughly in order of frequency; the male form (the female one is derived).
SURNAMES = _words(
    "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak "
    "Dąbrowski Kozłowski Jankowski Mazur Wojciechowski Kwiatkowski Krawczyk Kaczmarek Piotrowski "
    "Grabowski Zając Pawłowski Michalski Król Wieczorek Jabłoński Wróbel Nowakowski Majewski Olszewski "
    "Stępień Malinowski Jaworski Adamczyk Dudek Nowicki Pawlak Górski Witkowski Walczak Sikora Baran "
    "Rutkowski Michalak Szewczyk Ostrowski Tomaszewski Pietrzak Marciniak Wróblewski Zalewski Jakubowski "
    "Jasiński Zawadzki Sadowski Bąk Chmielewski Włodarczyk Borkowski Czarnecki Sawicki Sokołowski "
    "Urbański Kubiak Maciejewski Szczepański Kucharski Wilk Kalinowski Lis Mazurek Wysocki Adamski "
    "Kaźmierczak Wasilewski Sobczak Czerwiński Andrzejewski Cieślak Głowacki Zakrzewski Kołodziej"
)
SURNAME_WEIGHTS = [1 / (rank + 1) ** 0.8 for rank in range(len(SURNAMES))]
CITIES = (
    ("Warszawa", "00", "mazowieckie"),
    ("Kraków", "30", "małopolskie"),
    ("Łódź", "90", "łódzkie"),
    ("Wrocław", "50", "dolnośląskie"),
    ("Poznań", "60", "wielkopolskie"),
    ("Gdańsk", "80", "pomorskie"),
    ("Szczecin", "70", "zachodniopomorskie"),
    ("Bydgoszcz", "85", "kujawsko-pomorskie"),
    ("Lublin", "20", "lubelskie"),
    ("Białystok", "15", "podlaskie"),
    ("Katowice", "40", "śląskie"),
    ("Gdynia", "81", "pomorskie"),
    ("Rzeszów", "35", "podkarpackie"),
    ("Toruń", "87", "kujawsko-pomorskie"),
    ("Kielce", "25", "świętokrzyskie"),
    ("Olsztyn", "10", "warmińsko-mazurskie"),
    ("Opole", "45", "opolskie"),
    ("Zielona Góra", "65", "lubuskie"),
)
CITY_WEIGHTS = [1 / (rank + 1) ** 0.6 for rank in range(len(CITIES))]
STREETS = _words(
    "Marszałkowska|Piłsudskiego|Mickiewicza|Słowackiego|Kościuszki|Długa|Polna|Leśna|Ogrodowa|Lipowa|"
    "Kwiatowa|Szkolna|Kolejowa|Sienkiewicza|Jana Pawła II|3 Maja|Wojska Polskiego|Grunwaldzka|Żeromskiego",
    sep="|",
)
JOB_TITLES = _words(
    "Prezes zarządu|Dyrektor handlowy|Kierownik zakupów|Specjalista ds. sprzedaży|Główna księgowa|"
    "Kierownik projektu|Właściciel|Office manager|Programista|Dyrektor finansowy|Asystentka zarządu|"
    "Koordynator logistyki|Przedstawiciel handlowy|Inżynier budowy|Kierownik biura",
    sep="|",
)
INDUSTRIES = _words(
    "Transport Logistyka Budownictwo Serwis Consulting Meble Druk Software Energia Medical Invest "
    "Trade Auto Agro Instal Catering"
)
PREFIXES = _words("Pol Euro Mazowsze Bałtyk Tatra Wisła Orzeł Sokół Jantar Inter Nova Delta Alfa Omega Piast")
LEGAL_FORMS = ("sp. z o.o.", "sp. z o.o.", "S.A.", "sp. j.", "s.c.", "sp. k.", "")
FREE_MAIL = ("gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "op.pl")
# The tag catalogue with the share of contacts that carry each tag.
TAGS: dict[str, float] = {
    "klient": 0.30,
    "newsletter": 0.25,
    "b2b": 0.20,
    "warszawa": 0.12,
    "do-kontaktu": 0.10,
    "hurt": 0.08,
    "kraków": 0.08,
    "partner": 0.06,
    "vip": 0.05,
    "targi-2025": 0.04,
}
SOURCES = ("web", "targi", "polecenie", "cold-call", "import", "linkedin")
# Surname beginnings the `q` run searches for (each matches several surnames or their female forms).
SEARCH_PREFIXES = tuple(_words("nowak kowal wiśniew wójcik kamińsk lewand zieli szyma dąbrow mazur"))

# The custom fields `_custom` fills, as `POST /v1/custom-fields` bodies (kind "contact").
CUSTOM_FIELDS: tuple[dict[str, Any], ...] = (
    {"key": "source", "label": "Źródło", "type": "select", "options": list(SOURCES)},
    {"key": "segment", "label": "Segment", "type": "select", "options": ["A", "B", "C"]},
    {"key": "nps", "label": "NPS", "type": "number"},
    {"key": "newsletter", "label": "Newsletter", "type": "bool"},
    {"key": "employees", "label": "Pracownicy", "type": "number"},
    {"key": "industry", "label": "Branża", "type": "select", "options": list(INDUSTRIES)},
)

_FOLD = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


def ascii_slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.translate(_FOLD).lower())


def _female(surname: str) -> str:
    for male, female in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
        if surname.endswith(male):
            return surname[: -len(male)] + female
    return surname


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def _phone(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.7:
        number = f"+48 {rng.choice('5678')}{_digits(rng, 2)} {_digits(rng, 3)} {_digits(rng, 3)}"
        return {"number": number, "label": "mobile", "primary": False}
    area = rng.choice(("22", "12", "42", "71", "61", "58", "91", "32"))
    number = f"+48 {area} {_digits(rng, 3)} {_digits(rng, 2)} {_digits(rng, 2)}"
    return {"number": number, "label": "work", "primary": False}


def _address(rng: random.Random, label: str) -> dict[str, Any]:
    city, postal, region = rng.choices(CITIES, CITY_WEIGHTS)[0]
    return {
        "label": label,
        "street": f"ul. {rng.choice(STREETS)} {rng.randint(1, 180)}",
        "city": city,
        "postal_code": f"{postal}-{rng.randint(1, 999):03d}",
        "region": region,
        "country": "PL",
        "primary": True,
    }


def nip(rng: random.Random) -> str:
    """A Polish tax id with a valid check digit."""
    while True:
        digits = [rng.randint(1, 9), *(rng.randrange(10) for _ in range(8))]
        check = sum(w * d for w, d in zip((6, 5, 7, 2, 3, 4, 5, 6, 7), digits, strict=True)) % 11
        if check < 10:
            return "".join(map(str, digits)) + str(check)


def _tags(rng: random.Random) -> list[str]:
    return [tag for tag, share in TAGS.items() if rng.random() < share]


def _custom(rng: random.Random) -> dict[str, Any]:
    custom: dict[str, Any] = {"source": rng.choice(SOURCES), "segment": rng.choice("AABBBC")}
    if rng.random() < 0.5:
        custom["nps"] = rng.randint(0, 10)
    if rng.random() < 0.3:
        custom["newsletter"] = rng.random() < 0.7
    return custom


def _primary(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if items:
        items[0]["primary"] = True
    return items


def person(rng: random.Random) -> dict[str, Any]:
    female = rng.random() < 0.5
    first = rng.choice(FIRST_F if female else FIRST_M)
    surname = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
    last = _female(surname) if female else surname
    f, s = ascii_slug(first), ascii_slug(last)
    local = rng.choice((f"{f}.{s}", f"{f[0]}.{s}", f"{f}{s}{rng.randint(1, 99)}", f"{s}.{f}"))
    emails = [{"address": f"{local}@{rng.choice(FREE_MAIL)}", "label": "private", "primary": False}]
    if rng.random() < 0.35:
        company = f"{rng.choice(PREFIXES)}{rng.choice(INDUSTRIES)}"
        emails.insert(0, {"address": f"{f}.{s}@{ascii_slug(company)}.pl", "label": "work", "primary": False})
    body: dict[str, Any] = {
        "kind": "person",
        "first_name": first,
        "last_name": last,
        "emails": _primary(emails),
        "phones": _primary([_phone(rng) for _ in range(rng.choice((0, 1, 1, 1, 2)))]),
        "tags": _tags(rng),
        "custom": _custom(rng),
        "lifecycle_state": "financial" if rng.random() < 0.2 else "prospect",
    }
    if rng.random() < 0.6:
        body["job_title"] = rng.choice(JOB_TITLES)
    if rng.random() < 0.3:
        body["addresses"] = [_address(rng, "home")]
    if rng.random() < 0.9:
        body["time_zone"] = "Europe/Warsaw"
    return body


def organisation(rng: random.Random) -> dict[str, Any]:
    surname = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
    industry, prefix = rng.choice(INDUSTRIES), rng.choice(PREFIXES)
    city = rng.choices(CITIES, CITY_WEIGHTS)[0][0]
    core = rng.choice(
        (
            f"{surname} {industry}",
            f"{prefix}-{industry}",
            f"{prefix}{industry.lower()}",
            f"P.H.U. {surname}",
            f"{industry} {city}",
            f"{surname} i Wspólnicy",
        )
    )
    name = f"{core} {rng.choice(LEGAL_FORMS)}".strip()
    domain = f"{ascii_slug(core)}{rng.randint(1, 99) if rng.random() < 0.3 else ''}" + rng.choice(
        (".pl", ".pl", ".com.pl", ".eu", ".com")
    )
    emails = [{"address": f"{box}@{domain}", "label": box, "primary": False} for box in ("biuro", "faktury")]
    return {
        "kind": "organisation",
        "name": name,
        "emails": _primary(emails[: rng.choice((1, 1, 2))]),
        "phones": _primary([_phone(rng) for _ in range(rng.choice((1, 1, 2)))]),
        "addresses": [_address(rng, "billing")],
        "website": f"https://www.{domain}",
        "web_domain": domain,
        "tax_id": nip(rng),
        "time_zone": "Europe/Warsaw",
        "tags": _tags(rng),
        "custom": {**_custom(rng), "employees": rng.choice((5, 12, 40, 120, 800)), "industry": industry},
        "lifecycle_state": "financial" if rng.random() < 0.45 else "prospect",
    }


def contact(rng: random.Random, organisation_share: float = 0.2) -> dict[str, Any]:
    return organisation(rng) if rng.random() < organisation_share else person(rng)
