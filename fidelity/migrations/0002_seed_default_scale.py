"""A default Swedish fidelity scale: the Pathways model's five domains and a
few items each, in the project's own wording. The administrator adjusts it in
the admin; reversing removes only rows that no assessment has used."""

from django.db import migrations

SCALE = [
    (
        "Boendeprocess och struktur",
        [
            "Deltagaren väljer själv var hen vill bo, så långt utbudet tillåter",
            "Deltagaren får en bostad inom kort tid från att hen antagits",
            "Lägenheterna är utspridda i vanliga bostadsområden, inte samlade i ett hus",
            "Hyran är rimlig i förhållande till deltagarens inkomst",
            "Bostaden är en vanlig lägenhet med eget kontrakt eller andrahandskontrakt "
            "med besittningsskydd som mål",
        ],
    ),
    (
        "Åtskillnad mellan boende och stöd",
        [
            "Inget krav på att vara drogfri eller behandlad för att få en bostad",
            "Deltagaren har samma rättigheter och skyldigheter som andra hyresgäster",
            "Bostaden behålls om deltagaren lämnar eller avbryter stödet",
            "Stödet följer med om deltagaren förlorar bostaden eller flyttar",
            "Teamets personal har inte kontor i deltagarnas hus",
        ],
    ),
    (
        "Stödets filosofi",
        [
            "Deltagaren bestämmer vilka insatser hen vill ha och när",
            "Teamet arbetar skademinimerande, utan krav på avhållsamhet",
            "Teamet använder motiverande samtal och undviker tvång och villkor",
            "Genomförandeplanen utgår från deltagarens egna mål och ord",
            "Stödet riktas mot återhämtning och ett liv i samhället, inte bara boendet",
        ],
    ),
    (
        "Stödinsatser",
        [
            "Teamet stöttar deltagaren i att sköta hyran och boendet",
            "Deltagaren får tillgång till psykiatrisk vård och beroendevård när hen vill",
            "Teamet stöttar sysselsättning, studier och arbete",
            "Teamet hjälper deltagaren med ekonomi, myndighetskontakter och förmåner",
            "Teamet stöttar sociala relationer och deltagande i samhällslivet",
        ],
    ),
    (
        "Teamets struktur och personal",
        [
            "Varje heltidsanställd i teamet har ansvar för högst tio deltagare",
            "Teamet träffar varje deltagare minst en gång i veckan",
            "Teamet går att nå dygnet runt, alla dagar",
            "Teamet har regelbundna möten där deltagarnas situation gås igenom",
            "Deltagare eller personer med egen erfarenhet finns med i teamet eller "
            "i dess styrning",
        ],
    ),
]


def seed(apps, schema_editor):
    Domain = apps.get_model("fidelity", "Domain")
    Item = apps.get_model("fidelity", "Item")
    for domain_order, (name, items) in enumerate(SCALE, start=1):
        domain, _created = Domain.objects.get_or_create(
            name=name, defaults={"order": domain_order * 10}
        )
        for item_order, text in enumerate(items, start=1):
            Item.objects.get_or_create(
                domain=domain,
                text=text,
                defaults={"order": item_order * 10, "scale_min": 1, "scale_max": 4},
            )


def unseed(apps, schema_editor):
    Domain = apps.get_model("fidelity", "Domain")
    Item = apps.get_model("fidelity", "Item")
    names = [name for name, _items in SCALE]
    texts = [text for _name, items in SCALE for text in items]
    Item.objects.filter(text__in=texts, scores__isnull=True).delete()
    Domain.objects.filter(name__in=names, items__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("fidelity", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
