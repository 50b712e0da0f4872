#!/usr/bin/python3
"""Run one command through pywinrm and print {"stdout", "stderr", "code"} as JSON.

The WinRM simulator's interoperability check (simulator/interop_test.go): pywinrm
is a client written independently of this project, so a command that works through
it shows the simulator speaks WinRM, NTLM and message sealing as Windows does.

Uses winrm.Protocol directly (open_shell, run_command, get_command_output,
cleanup_command, close_shell): pywinrm 0.3.0's run_cmd/run_ps are not needed and
run_ps breaks on Python 3 when stderr is not empty.

The password comes from the environment (PYWINRM_PASSWORD), never from argv.
NTLM needs MD4: on OpenSSL 3 point OPENSSL_CONF at a file that activates the
default and legacy providers.

--transport kerberos uses the ticket cache (KRB5CCNAME, after kinit) through
requests-kerberos and pykerberos, i.e. MIT's GSSAPI. requests-kerberos 0.12
seals WinRM messages with pykerberos' authGSSWinRMEncryptMessage and
authGSSWinRMDecryptMessage, which Debian's pykerberos 1.1.14 lacks; the adapter
below provides them on pykerberos' own gss_wrap/gss_unwrap calls (confidential
wrap tokens), so every cryptographic operation is still MIT's.
"""
import argparse
import json
import os
import sys

import base64

import winrm


def add_winrm_kerberos_sealing():
    import kerberos

    if hasattr(kerberos, "authGSSWinRMEncryptMessage"):
        return

    def encrypt(context, message):
        kerberos.authGSSClientWrap(context, base64.b64encode(message).decode(), None, 1)
        token = base64.b64decode(kerberos.authGSSClientResponse(context))
        n = len(token) - len(message)  # the data part is as long as the message
        return token[n:], token[:n]

    def decrypt(context, message, header):
        kerberos.authGSSClientUnwrap(context, base64.b64encode(header + message).decode())
        return base64.b64decode(kerberos.authGSSClientResponse(context) or "")

    kerberos.authGSSWinRMEncryptMessage = encrypt
    kerberos.authGSSWinRMDecryptMessage = decrypt


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="e.g. http://127.0.10.1:5985/wsman")
    p.add_argument("--user", default="", help=r"DOMAIN\user or user (not for kerberos)")
    p.add_argument("--transport", default="ntlm", choices=["ntlm", "plaintext", "kerberos"])
    p.add_argument("--hostname", help="kerberos: host name for the SPN HTTP@name when the URL has an IP")
    p.add_argument("--encryption", default="always", choices=["always", "auto", "never"])
    p.add_argument("--command", default="hostname")
    p.add_argument("--ca", help="CA bundle for https URLs")
    args = p.parse_args()

    kwargs = dict(
        endpoint=args.url,
        transport=args.transport,
        operation_timeout_sec=20,
        read_timeout_sec=30,
    )
    if args.transport == "kerberos":
        add_winrm_kerberos_sealing()
        kwargs["kerberos_hostname_override"] = args.hostname
    else:
        kwargs["username"], kwargs["password"] = args.user, os.environ["PYWINRM_PASSWORD"]
    if args.transport in ("ntlm", "kerberos"):
        kwargs["message_encryption"] = args.encryption
    if args.ca:
        kwargs["ca_trust_path"] = args.ca
    proto = winrm.Protocol(**kwargs)

    shell = proto.open_shell()
    try:
        command = proto.run_command(shell, args.command)
        try:
            stdout, stderr, code = proto.get_command_output(shell, command)
        finally:
            proto.cleanup_command(shell, command)
    finally:
        proto.close_shell(shell)

    json.dump({
        "stdout": stdout.decode("utf-8", "replace"),
        "stderr": stderr.decode("utf-8", "replace"),
        "code": code,
    }, sys.stdout)
    print()


if __name__ == "__main__":
    main()
