"""The demo's hotels as plain data, importable without Django set up.

`crm.demo` turns them into prospects; `enrichment.demo_site` serves a website
for each, so the two always agree on names, cities and contacts.
"""

CITIES = [
    ("Lisbon", "PT", "Europe/Lisbon"),
    ("Porto", "PT", "Europe/Lisbon"),
    ("Seville", "ES", "Europe/Madrid"),
    ("Valencia", "ES", "Europe/Madrid"),
    ("Nice", "FR", "Europe/Paris"),
    ("Lyon", "FR", "Europe/Paris"),
    ("Florence", "IT", "Europe/Rome"),
    ("Bologna", "IT", "Europe/Rome"),
    ("Munich", "DE", "Europe/Berlin"),
    ("Vienna", "AT", "Europe/Vienna"),
]
NAMES = ["Casa", "Villa", "Hotel", "Palazzo", "Maison"]
WORDS = ["Azul", "Verde", "Sol", "Luna", "Mar", "Oliva", "Rosa", "Alba", "Terra", "Fiore"]
CONTACTS = ["Ana Costa", "Luis Garcia", "Claire Martin", "Marco Rossi", "Lena Huber", ""]
