"""The web container's Docker HEALTHCHECK: ``python -m bostadforst.healthcheck``.

Asks the local Gunicorn for /healthz with a Host header Django accepts (the
first of ALLOWED_HOSTS; 127.0.0.1 would be refused as a host not allowed) and
exits 0 when the web process can serve: the database and the cache answer.
A worker without a recent heartbeat makes /healthz answer 503 for
monitoring, but does not make *this* container unhealthy: a proxy that
follows container health would otherwise take the whole site down because
background jobs are late.

Standard library only, and no Django set-up: it runs every few seconds.
"""

from __future__ import annotations

import http.client
import json
import os
import sys


def host_header(allowed_hosts: str) -> str:
    for host in (h.strip() for h in allowed_hosts.split(",")):
        if host and host != "*":
            return host.lstrip(".")  # ".kommun.se" allows kommun.se too
    return "localhost"


def web_is_healthy(status: int, body: bytes) -> bool:
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if status not in (200, 503) or not isinstance(data, dict):
        return False
    return data.get("database") == "ok" and data.get("cache") == "ok"


def main(argv: list[str] | None = None) -> int:
    address = (argv or sys.argv[1:] or [os.environ.get("HEALTHCHECK_ADDRESS", "127.0.0.1:8000")])[0]
    host, _, port = address.rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.request(
            "GET",
            "/healthz",
            headers={
                "Host": host_header(os.environ.get("ALLOWED_HOSTS", "")),
                "X-Forwarded-Proto": "https",
            },
        )
        response = connection.getresponse()
        healthy = web_is_healthy(response.status, response.read())
    except OSError as error:
        print(f"healthz: {error.__class__.__name__}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
