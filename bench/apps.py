from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark's commands (`members`): installed by bench/settings.py and the
    tests that need it, never by the site's own settings."""

    name = "bench"
    verbose_name = "Benchmark"

    def ready(self):
        from bench import hash_clock

        hash_clock.install()  # only when BENCH_HASH_CLOCK is set (bench/run.py's servers)
