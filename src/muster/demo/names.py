"""Fictional but plausible names for the demo: transliterated Ukrainian people, made-up regions.

Plain data, so the demo planner can draw from it with a seeded Random and stay deterministic.
"""

from __future__ import annotations

# Most Ukrainian family names have one form for both sexes; the -skyi names have two.
_SHARED_FAMILY_NAMES = """
Kovalenko Shevchenko Bondarenko Tkachenko Kravchenko Boiko Kovalchuk Oliinyk Shevchuk Polishchuk
Bondar Tkachuk Marchenko Lysenko Rudenko Savchenko Petrenko Moroz Melnyk Kravchuk Koval Klymenko
Pavlenko Ponomarenko Vasylenko Levchenko Kharchenko Karpenko Kuzmenko Savchuk Hrytsenko Sydorenko
Ivanenko Marchuk Romanenko Yakovenko Mazur Kozak Panchenko Nazarenko Dmytrenko Holub Moskalenko
Zinchenko Pylypenko Antonenko Honcharenko Fedorenko Kostenko Shcherbak Tarasenko Prykhodko
Ostapenko Kushnir Hnatiuk Vovk Sokolenko Andriienko Voloshyn Yurchenko Demchenko Lytvynenko
Stepanenko Bilous Zakharchenko Sirenko Mykhailenko Didenko Yaremchuk Hordiienko Khomenko Danylenko
Fedorchuk Maksymenko Rybak Humeniuk Kononenko Zhuk Shapoval Palamarchuk Kolesnyk Kyrychenko Zaiets
Semeniuk Hryshchenko Babenko Nesterenko Yatsenko Mospan Tymchenko
"""
_SKYI_STEMS = "Koval Vyshnev Sadov Lozyn Ostrov Zelin Poliakov Bilotserkiv Horodet Sokolov"

# (masculine, feminine) forms of about 100 family names.
FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    *((name, name) for name in _SHARED_FAMILY_NAMES.split()),
    *((f"{stem}skyi", f"{stem}ska") for stem in _SKYI_STEMS.split()),
)

# Fathers' names make the patronymics: (name, a son's patronymic, a daughter's patronymic).
_MALE_NAMES = """
Oleksandr:Oleksandrovych:Oleksandrivna Andrii:Andriiovych:Andriivna Serhii:Serhiiovych:Serhiivna
Volodymyr:Volodymyrovych:Volodymyrivna Dmytro:Dmytrovych:Dmytrivna Mykola:Mykolaiovych:Mykolaivna
Ivan:Ivanovych:Ivanivna Oleh:Olehovych:Olehivna Yurii:Yuriiovych:Yuriivna Vasyl:Vasylovych:Vasylivna
Petro:Petrovych:Petrivna Ihor:Ihorovych:Ihorivna Taras:Tarasovych:Tarasivna
Bohdan:Bohdanovych:Bohdanivna Yaroslav:Yaroslavovych:Yaroslavivna Maksym:Maksymovych:Maksymivna
Artem:Artemovych:Artemivna Denys:Denysovych:Denysivna Vitalii:Vitaliiovych:Vitaliivna
Roman:Romanovych:Romanivna Mykhailo:Mykhailovych:Mykhailivna Pavlo:Pavlovych:Pavlivna
Viktor:Viktorovych:Viktorivna Anatolii:Anatoliiovych:Anatoliivna Vadym:Vadymovych:Vadymivna
Ruslan:Ruslanovych:Ruslanivna Stepan:Stepanovych:Stepanivna Hryhorii:Hryhorovych:Hryhorivna
Ostap:Ostapovych:Ostapivna Nazar:Nazarovych:Nazarivna Yevhen:Yevhenovych:Yevhenivna
Kostiantyn:Kostiantynovych:Kostiantynivna Oleksii:Oleksiiovych:Oleksiivna
Vladyslav:Vladyslavovych:Vladyslavivna Stanislav:Stanislavovych:Stanislavivna
"""
MALE_NAMES: tuple[tuple[str, str, str], ...] = tuple(
    (name, son, daughter)
    for name, son, daughter in (entry.split(":") for entry in _MALE_NAMES.split())
)

_FEMALE_NAMES = """
    Olena Nataliia Iryna Tetiana Oksana Svitlana Yuliia Mariia Anna Kateryna Olha Liudmyla Halyna
    Nadiia Viktoriia Larysa Alla Inna Khrystyna Sofiia Daryna Anastasiia Valentyna Zoriana Uliana
    Solomiia Oleksandra Vira Lesia Dariia
"""
FEMALE_NAMES: tuple[str, ...] = tuple(_FEMALE_NAMES.split())

# Ukrainian mobile operator codes, as in +380 67 123 4567.
_PHONE_CODES = "50 63 66 67 68 73 93 95 96 97 98 99"
PHONE_CODES: tuple[str, ...] = tuple(_PHONE_CODES.split())
EMAIL_DOMAINS: tuple[str, ...] = ("ukr.net", "gmail.com", "i.ua", "meta.ua")

# Thirty made-up regions; "Hill_Country" is one name (underscore read as a space).
_REGION_NAMES = """
    Northern Southern Eastern Western Central Riverside Steppe Forest Lakeland Highland Coastal
    Borderland Upland Valley Marshland North-Eastern South-Western North-Western South-Eastern
    Midland Hill_Country Lowland Pinewood Black_Earth Seaside Canyon Heathland Orchard Meadowland
    Frontier
"""
REGION_NAMES: tuple[str, ...] = tuple(name.replace("_", " ") for name in _REGION_NAMES.split())
COMPANY_LETTERS = "ABCDEFGH"
_SUFFIXES = {1: "st", 2: "nd", 3: "rd"}


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, … 11th, 12th, 13th, 21st."""
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{_SUFFIXES.get(n % 10, 'th')}"


def region_name(index: int) -> str:
    """Name of the index-th region (1-based); past the list, numbered."""
    if index <= len(REGION_NAMES):
        return f"{REGION_NAMES[index - 1]} Region"
    return f"Region {index}"
