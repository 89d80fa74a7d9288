from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from web.demo import demo_loaded, load_demo


class Command(BaseCommand):
    help = (
        "Load Helsinki's regions and teams, one user per role per team, and about 200 "
        "fictional clients in every state. Runs once: does nothing if cases exist."
    )

    def add_arguments(self, parser):
        parser.add_argument("--clients", type=int, default=200)
        parser.add_argument("--password", help="password for every demo user (default: random)")
        parser.add_argument(
            "--credentials-file",
            default=str(Path(settings.BASE_DIR) / "var" / "demo-credentials.txt"),
            help="where the demo users and password are written (mode 600)",
        )

    def handle(self, *args, clients, password, credentials_file, **options):
        credentials = Path(credentials_file)
        if demo_loaded():
            self.stdout.write("Demo data already loaded; nothing to do.")
            if credentials.exists():
                self.stdout.write(f"Demo users and password: {credentials}")
            return
        summary = load_demo(clients=clients, password=password)
        lines = [
            f"Demo password for every user below and for 'admin': {summary['password']}",
            "Users (team-role, name): " + ", ".join(summary["users"]),
        ]
        credentials.parent.mkdir(exist_ok=True)
        credentials.write_text("\n".join(lines) + "\n", encoding="utf-8")
        credentials.chmod(0o600)
        self.stdout.write(self.style.SUCCESS(f"Loaded {summary['clients']} demo clients."))
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(f"(also written to {credentials})")
