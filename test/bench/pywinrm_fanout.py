#!/usr/bin/python3
"""Run one command on every host of a list with pywinrm and a thread pool; print a JSON summary.

The pywinrm peer of the fleet benchmark (test/bench, docs/performance.md): what a
Python fan-out over pywinrm costs for the same fleet, command and concurrency as
`aadcready connect -i`. Each host gets its own winrm.Protocol (NTLM with message
encryption, as Windows' default AllowUnencrypted=false requires over HTTP), one
shell, the command, cleanup; the result is checked against the host's name.

Input: --hosts FILE, a JSON list of {"name": ..., "url": "http://ADDR:5985/wsman"}.
The password comes from the environment (PYWINRM_PASSWORD), never from argv.
NTLM needs MD4: on OpenSSL 3 point OPENSSL_CONF at a file that activates the
default and legacy providers. Run it with /usr/bin/python3 (Debian's python3-winrm).

Output (stdout): {"hosts": n, "ok": n, "failed": n, "errors": {"ExceptionName": n}}.
"""
import argparse
import concurrent.futures
import json
import os
import sys

import winrm


def run_one(host, user, password, command, timeout):
    proto = winrm.Protocol(
        endpoint=host["url"],
        transport="ntlm",
        username=user,
        password=password,
        message_encryption="always",
        operation_timeout_sec=timeout,
        read_timeout_sec=timeout + 10,
    )
    shell = proto.open_shell()
    try:
        command_id = proto.run_command(shell, command)
        try:
            stdout, _, code = proto.get_command_output(shell, command_id)
        finally:
            proto.cleanup_command(shell, command_id)
    finally:
        proto.close_shell(shell)
    return code == 0 and stdout.decode("utf-8", "replace").strip().lower() == host["name"].lower()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hosts", required=True, help="JSON list of {name, url}")
    p.add_argument("--user", required=True, help=r"DOMAIN\user")
    p.add_argument("--workers", type=int, default=16, help="threads (hosts in flight)")
    p.add_argument("--command", default="hostname")
    p.add_argument("--timeout", type=int, default=20, help="WinRM operation timeout, seconds")
    args = p.parse_args()
    with open(args.hosts) as f:
        hosts = json.load(f)
    password = os.environ["PYWINRM_PASSWORD"]

    ok, errors = 0, {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(run_one, h, args.user, password, args.command, args.timeout) for h in hosts]
        for fut in concurrent.futures.as_completed(futures):
            try:
                if fut.result():
                    ok += 1
                else:
                    errors["WrongOutput"] = errors.get("WrongOutput", 0) + 1
            except Exception as e:  # a host's failure is its result; the run goes on
                name = type(e).__name__
                errors[name] = errors.get(name, 0) + 1
    json.dump({"hosts": len(hosts), "ok": ok, "failed": len(hosts) - ok, "errors": errors}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
