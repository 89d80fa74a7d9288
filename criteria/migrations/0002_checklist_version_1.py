"""Version 1 of the readiness checklist: the seven criteria agreed by the Koto 2 team.

Finnish names and guidance are the report's own wording (Kotoutumisen sillat, 2019,
chapter 3.2); Swedish and English follow it. Later versions are made in the admin.
"""

from django.db import migrations

CRITERIA = [
    {
        "code": "housing",
        "name_fi": "Vakiintunut asumistilanne",
        "name_sv": "Etablerad boendesituation",
        "name_en": "Settled housing",
        "guidance_fi": "Pääsääntöisesti ei siirretä, mikäli asiakas on asunnoton tai asuu "
        "kriisimajoituksessa.",
        "guidance_sv": "Som huvudregel överförs klienten inte om hen är bostadslös eller bor "
        "i krisboende.",
        "guidance_en": "As a rule, the client is not transferred while homeless or living in "
        "crisis accommodation.",
        "exception_allowed": True,
    },
    {
        "code": "authorities",
        "name_fi": "Viranomaisasiointi",
        "name_sv": "Ärenden hos myndigheter",
        "name_en": "Dealing with authorities",
        "guidance_fi": "Asiakas tuntee suomalaisen viranomaisverkoston (Kela, TE-toimisto, "
        "terveyskeskus, sosiaalivirasto) ja tietää mistä eri tilanteissa saa apua. Mikäli "
        "asiakkaalla moniongelmaisuutta esim. luku-kirjoitustaidottomuutta, asiakkuus "
        "siirretään saattaen alueelle.",
        "guidance_sv": "Klienten känner till det finländska myndighetsnätverket (FPA, "
        "TE-byrån, hälsostationen, socialbyrån) och vet var hen får hjälp i olika situationer. "
        "Om klienten har flera problem, t.ex. inte kan läsa eller skriva, överförs klienten "
        "till området med ledsagning.",
        "guidance_en": "The client knows the Finnish authority network (Kela, TE office, "
        "health centre, social services office) and where to get help in different "
        "situations. If the client has multiple problems, e.g. cannot read or write, the "
        "transfer to the region is escorted.",
        "has_multi_problem_marker": True,
    },
    {
        "code": "finances",
        "name_fi": "Taloudellinen tilanne",
        "name_sv": "Ekonomisk situation",
        "name_en": "Financial situation",
        "guidance_fi": "Asiakkaan taloustilanne on hallinnassa; ei vuokravelkaa tai selkeä "
        "suunnitelma velkojen hoidosta. Osaa hakea toimeentulotukea. Ensisijaiset etuudet "
        "haettu, mikäli mahdollista.",
        "guidance_sv": "Klientens ekonomi är under kontroll: inga hyresskulder eller en tydlig "
        "plan för skulderna. Kan ansöka om utkomststöd. Primära förmåner har sökts där det "
        "är möjligt.",
        "guidance_en": "The client's finances are under control: no rent arrears, or a clear "
        "plan for the debts. Knows how to apply for social assistance (toimeentulotuki). "
        "Primary benefits applied for where possible.",
    },
    {
        "code": "health",
        "name_fi": "Terveys",
        "name_sv": "Hälsa",
        "name_en": "Health",
        "guidance_fi": "Asiakkaalla on vakiintuneet hoitokontaktit (somaattinen, psyykkinen) "
        "tai riittävän hyvä psyykkinen vointi.",
        "guidance_sv": "Klienten har etablerade vårdkontakter (somatiska, psykiatriska) eller "
        "ett tillräckligt gott psykiskt välbefinnande.",
        "guidance_en": "The client has established care contacts (somatic, psychiatric) or "
        "sufficiently good mental wellbeing.",
    },
    {
        "code": "family",
        "name_fi": "Perhe",
        "name_sv": "Familj",
        "name_en": "Family",
        "guidance_fi": "Asiakkuus säilyy Maahanmuuttoyksikössä, mikäli pakolaisen "
        "perheenyhdistämisprosessi on kesken. Mikäli perheenkokoaja on ollut Suomessa pitkään "
        "ja perheen tilanne on vakiintunut, perhe voidaan siirtää alueelle vuoden päästä.",
        "guidance_sv": "Klienten stannar i Invandrarenheten medan flyktingens "
        "familjeåterförening pågår. Om familjens anknytningsperson har bott länge i Finland "
        "och familjens situation är stabil kan familjen överföras till området efter ett år.",
        "guidance_en": "The client stays in the Immigration Unit while a refugee's family "
        "reunification is pending. If the family member who brought the family has lived in "
        "Finland long and the family's situation is stable, the family can be transferred to "
        "the region after one year.",
    },
    {
        "code": "study_work",
        "name_fi": "Opiskelu/työ",
        "name_sv": "Studier/arbete",
        "name_en": "Study/work",
        "guidance_fi": "Asiakkaalla on selkeä opiskelu-, työ- tai arjenhallinnan suunnitelma.",
        "guidance_sv": "Klienten har en tydlig plan för studier, arbete eller vardagen.",
        "guidance_en": "The client has a clear plan for study, work or managing daily life.",
    },
    {
        "code": "children",
        "name_fi": "Lapset",
        "name_sv": "Barn",
        "name_en": "Children",
        "guidance_fi": "Lasten arki on vakiintunut (koulu, päiväkoti) ja vanhemmat tietävät, "
        "mihin ottaa yhteyttä, jos huolta lapsista (neuvola, perheneuvola, koulun "
        "oppilashuolto).",
        "guidance_sv": "Barnens vardag är stabil (skola, daghem) och föräldrarna vet vart de "
        "ska vända sig om de är oroliga för barnen (rådgivning, familjerådgivning, skolans "
        "elevvård).",
        "guidance_en": "The children's daily life is stable (school, day care) and the parents "
        "know whom to contact when worried about a child (child health clinic, family "
        "counselling, school pupil welfare).",
        "requires_children": True,
    },
]


def load(apps, schema_editor):
    ChecklistTemplate = apps.get_model("criteria", "ChecklistTemplate")
    CriterionDefinition = apps.get_model("criteria", "CriterionDefinition")
    template, created = ChecklistTemplate.objects.get_or_create(
        version=1,
        defaults={
            "title": "Asiakassiirron kriteerit (Koto 2)",
            "is_current": True,
            "sponsor_long_residence_years": 4,
        },
    )
    if created:
        for order, criterion in enumerate(CRITERIA, start=1):
            CriterionDefinition.objects.create(template=template, order=order, **criterion)


def unload(apps, schema_editor):
    ChecklistTemplate = apps.get_model("criteria", "ChecklistTemplate")
    CriterionDefinition = apps.get_model("criteria", "CriterionDefinition")
    CriterionDefinition.objects.filter(template__version=1).delete()
    ChecklistTemplate.objects.filter(version=1).delete()


class Migration(migrations.Migration):
    dependencies = [("criteria", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
