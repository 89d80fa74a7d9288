"""The client notice templates shipped with Silta, in Finnish, plain-language Finnish
(selkosuomi), Swedish and English, each marked for a translator's review. Administrators
edit them (and add languages) in the admin; this migration only loads the first versions."""

from django.db import migrations

LETTER_BRING_FI = (
    "Ota mukaan:\n"
    "- henkilöllisyystodistus tai oleskelulupakortti\n"
    "- Kela-kortti\n"
    "- viimeisimmät päätökset toimeentulotuesta ja vuokrasopimus"
)

TEMPLATES = [
    # (kind, language, plain, subject, body, interpreter line)
    (
        "letter",
        "fin",
        False,
        "Kutsu siirtotapaamiseen",
        "Sosiaalityösi siirtyy Maahanmuuttoyksiköstä alueelliseen sosiaalityöhön. "
        "Sinulle on varattu siirtotapaaminen.\n\n"
        "Aika: $date klo $time\n"
        "Paikka: $place\n"
        "Osoite: $address\n"
        "Sinut tapaa: $meeting_with ($team)\n"
        "$interpreter\n\n"
        + LETTER_BRING_FI
        + "\n\nJos et pääse tapaamiseen, ilmoita siitä mahdollisimman pian työntekijällesi.",
        "Tapaamisessa on $language tulkki.",
    ),
    (
        "letter",
        "fin",
        True,
        "Sinulla on tapaaminen",
        "Sinulla on uusi sosiaalityöntekijä. Tulet tapaamaan häntä.\n\n"
        "Päivä: $date\n"
        "Kello: $time\n"
        "Paikka: $place, $address\n"
        "Sinua tapaa: $meeting_with\n"
        "$interpreter\n\n"
        "Ota mukaan:\n"
        "- henkilökortti tai oleskelulupa\n"
        "- Kela-kortti\n\n"
        "Et pääse tulemaan? Soita työntekijälle heti.",
        "Tapaamisessa on tulkki. Tulkki puhuu kieltä $language.",
    ),
    (
        "letter",
        "swe",
        False,
        "Kallelse till överföringsmöte",
        "Ditt socialarbete flyttas från Invandrarenheten till det regionala socialarbetet. "
        "Ett överföringsmöte har bokats för dig.\n\n"
        "Tid: $date kl. $time\n"
        "Plats: $place\n"
        "Adress: $address\n"
        "Du träffar: $meeting_with ($team)\n"
        "$interpreter\n\n"
        "Ta med:\n"
        "- identitetsbevis eller uppehållstillståndskort\n"
        "- FPA-kort\n"
        "- de senaste besluten om utkomststöd och hyresavtalet\n\n"
        "Om du inte kan komma, meddela din arbetstagare så snart som möjligt.",
        "En tolk på $language är med på mötet.",
    ),
    (
        "letter",
        "eng",
        False,
        "Invitation to your handover meeting",
        "Your social work moves from the Immigration Unit to the regional social work team. "
        "A handover meeting has been booked for you.\n\n"
        "Time: $date at $time\n"
        "Place: $place\n"
        "Address: $address\n"
        "You will meet: $meeting_with ($team)\n"
        "$interpreter\n\n"
        "Please bring:\n"
        "- an identity document or your residence permit card\n"
        "- your Kela card\n"
        "- your latest social assistance decisions and your rental agreement\n\n"
        "If you cannot come, tell your worker as soon as possible.",
        "A $language interpreter will be at the meeting.",
    ),
    (
        "sms",
        "fin",
        False,
        "",
        "Sinulle on varattu siirtotapaaminen $date klo $time, $place, $address. "
        "Sinut tapaa $meeting_with. $interpreter "
        "Ota mukaan henkilöllisyystodistus ja Kela-kortti. Helsingin sosiaalipalvelut",
        "Tapaamisessa on $language tulkki.",
    ),
    (
        "sms",
        "fin",
        True,
        "",
        "Sinulla on tapaaminen $date kello $time. Paikka: $place, $address. "
        "Sinua tapaa $meeting_with. $interpreter "
        "Ota mukaan henkilökortti ja Kela-kortti. Helsingin sosiaalipalvelut",
        "Tulkki on paikalla.",
    ),
    (
        "sms",
        "swe",
        False,
        "",
        "Ett överföringsmöte har bokats för dig $date kl. $time, $place, $address. "
        "Du träffar $meeting_with. $interpreter "
        "Ta med identitetsbevis och FPA-kort. Helsingfors socialtjänster",
        "En tolk på $language är med.",
    ),
    (
        "sms",
        "eng",
        False,
        "",
        "Your handover meeting is on $date at $time, $place, $address. "
        "You will meet $meeting_with. $interpreter "
        "Bring an identity document and your Kela card. Helsinki social services",
        "A $language interpreter will be there.",
    ),
    (
        "sms_reminder",
        "fin",
        False,
        "",
        "Muistutus: siirtotapaamisesi on huomenna $date klo $time, $place, $address. "
        "Jos et pääse, ilmoita työntekijällesi. Helsingin sosiaalipalvelut",
        "",
    ),
    (
        "sms_reminder",
        "fin",
        True,
        "",
        "Muista tapaaminen huomenna $date kello $time. Paikka: $place, $address. "
        "Et pääse? Soita työntekijälle. Helsingin sosiaalipalvelut",
        "",
    ),
    (
        "sms_reminder",
        "swe",
        False,
        "",
        "Påminnelse: ditt överföringsmöte är i morgon $date kl. $time, $place, $address. "
        "Om du inte kan komma, meddela din arbetstagare. Helsingfors socialtjänster",
        "",
    ),
    (
        "sms_reminder",
        "eng",
        False,
        "",
        "Reminder: your handover meeting is tomorrow, $date at $time, $place, $address. "
        "If you cannot come, tell your worker. Helsinki social services",
        "",
    ),
]


def load(apps, schema_editor):
    Template = apps.get_model("transfers", "ClientNoticeTemplate")
    for kind, language, plain, subject, body, interpreter in TEMPLATES:
        Template.objects.get_or_create(
            kind=kind,
            language=language,
            plain_language=plain,
            defaults={
                "subject": subject,
                "body": body,
                "interpreter_line": interpreter,
                "needs_translator_review": True,
            },
        )


def unload(apps, schema_editor):
    apps.get_model("transfers", "ClientNoticeTemplate").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("transfers", "0008_client_notice_template")]

    operations = [migrations.RunPython(load, unload)]
