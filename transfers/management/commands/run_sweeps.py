from django.core.management.base import BaseCommand

from transfers import reminders as sweeps
from transfers import tasks


class Command(BaseCommand):
    help = (
        "Run the due sweep and the reminder sweep now (beat runs them daily). With --async "
        "they are sent to the broker for a worker to run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--async", action="store_true", dest="run_async")

    def handle(self, *args, run_async, **options):
        if run_async:
            tasks.due_sweep.delay()
            tasks.reminder_sweep.delay()
            self.stdout.write("Sweeps sent to the worker.")
            return
        fell_due = sweeps.due_sweep()
        queued = sweeps.reminder_sweep()
        self.stdout.write(f"{fell_due} cases fell due; {queued} reminders queued.")
