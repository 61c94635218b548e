"""gunicorn's settings for Offbrand: gunicorn reads this file from the directory it
runs in (the Procfile, deploy/systemd/offbrand-web.service and harness/servers.py run
it from the project's root). The command lines keep the rest (workers, bind, timeouts).
"""

# Offbrand is served at the root of its host. By default gunicorn takes `SCRIPT_NAME`
# and `PATH_INFO` headers from a proxy it trusts (`forwarded_allow_ips`: 127.0.0.1) and
# strips the prefix from the path; a prefix the path does not start with was gunicorn's
# own 500, before `offbrand.wsgi.ServedAtTheRoot` runs (attack report F10). With no
# forwarder headers, `header_map = "drop"` (the default) drops them from everyone.
forwarder_headers = ""
