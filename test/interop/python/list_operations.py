"""Print the operations of a port (by default RegisteredMailService/RegisteredMailSOAP11) as JSON.

Usage: /usr/bin/python3 list_operations.py <wsdl url or file path> [<service> <port>]

Loads the WSDL with zeep, the way a Python integrator would, following its imports (over HTTP for a
served WSDL), and prints {"service": ..., "port": ..., "operations": [...]} on one line.
"""

import json
import sys

from zeep import Client

SERVICE = "RegisteredMailService"
PORT = "RegisteredMailSOAP11"


def list_operations(wsdl: str, service: str = SERVICE, port_name: str = PORT) -> dict:
    client = Client(wsdl)
    port = client.wsdl.services[service].ports[port_name]
    return {
        "service": service,
        "port": port_name,
        "address": port.binding_options.get("address"),
        "operations": list(port.binding.all().keys()),
    }


def main(argv: list) -> int:
    if len(argv) not in (2, 4):
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(list_operations(*argv[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
