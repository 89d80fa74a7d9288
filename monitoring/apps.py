from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """What an operator watches: each sweep's last run, recorded by the worker that ran it
    (config/metrics.py reads it at scrape time), and one log line per task."""

    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        from monitoring import signals

        signals.connect()
