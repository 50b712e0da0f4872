#!/usr/bin/python3
"""A minimal WinRM endpoint whose security side is not Go: gss-ntlmssp or MIT Kerberos via python3-gssapi.

It exists to test the Go client's NTLM and Kerberos handshakes and MS-WSMV
message sealing against independent implementations. It keeps one security
context per TCP connection (as Windows does), refuses unsealed SOAP with 401
(Windows' default AllowUnencrypted=false), and runs a fake cmd shell:

  hostname      -> stdout "SIMHOST\\r\\n", exit 0
  echo-stdin    -> stdout = the bytes received on stdin, exit 0
  anything else -> stderr "'<cmd>' is not recognized ...", exit 1

NTLM (default): users come from the file named by NTLM_USER_FILE (lines
DOMAIN:user:password). --mech kerberos: MIT's acceptor with the keytab named by
KRB5_KTNAME, for "Authorization: Kerberos <krb5 token>" (sealed as
HTTP-Kerberos-session-encrypted) and "Negotiate <SPNEGO token>" (sealed as
HTTP-SPNEGO-session-encrypted); replies are RFC 4121 wrap tokens made by
gss_wrap_iov (header | data, as Windows frames them).
It listens on 127.0.0.1 on a free port, prints "PORT <n>" on stdout, logs one
line per connection event and request on stderr, and exits when stdin closes.

  --mech M          ntlm (default) or kerberos
  --check           exit 0 if an acceptor can be created, else 1
  --cb-data TEXT    kerberos: require these channel-binding application data (as TLS would give)
  --reply-spnego    kerberos: label sealed replies HTTP-SPNEGO-session-encrypted whatever the scheme
  --negotiate-only  kerberos: offer and accept only the Negotiate scheme (as pywinrm-era servers)
  --tls CERT KEY    serve HTTPS (no sealing then); kerberos: require the RFC 5929
                    tls-server-end-point channel binding of CERT (SHA-256 signed)
  --drop-after N    close the TCP connection (without notice) after every N requests
"""

import argparse
import base64
import hashlib
import http.server
import itertools
import os
import ssl
import struct
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import gssapi
import gssapi.exceptions
import gssapi.raw

NTLM_OID = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
BOUNDARY = b"--Encrypted Boundary"
SPNEGO_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
KERBEROS_PROTOCOL = "application/HTTP-Kerberos-session-encrypted"


def content_type(protocol):
    return 'multipart/encrypted;protocol="%s";boundary="Encrypted Boundary"' % protocol

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
}
SHELL = NS["rsp"]
FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def acceptor_creds(mech):
    if mech == "kerberos":
        return gssapi.Credentials(usage="accept")  # every key in KRB5_KTNAME
    return gssapi.Credentials(usage="accept", mechs=[NTLM_OID])


# --- multipart/encrypted framing (MS-WSMV 2.2.9.1.1), written independently of the Go codec


def unframe(body, protocol):
    """Return (original_length, header, sealed) from a multipart/encrypted body."""
    head, sep, rest = body.partition(BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n")
    if not sep or not head.startswith(BOUNDARY + b"\r\n"):
        raise ValueError("bad multipart/encrypted framing")
    if ("Content-Type: " + protocol).encode() not in head:
        raise ValueError("wrong protocol in first part")
    length = int(head.split(b"Length=")[1].split(b"\r\n")[0])
    (sig_len,) = struct.unpack("<I", rest[:4])
    if sig_len < 16 or sig_len > 1024:
        raise ValueError("header length %d" % sig_len)
    sig, sealed = rest[4 : 4 + sig_len], rest[4 + sig_len : 4 + sig_len + length]
    if len(sealed) != length or rest[4 + sig_len + length :] != BOUNDARY + b"--\r\n":
        raise ValueError("length or trailer mismatch")
    return length, sig, sealed


def frame(sig, sealed, protocol):
    return (
        BOUNDARY + b"\r\n"
        b"\tContent-Type: " + protocol.encode() + b"\r\n"
        b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + str(len(sealed)).encode() + b"\r\n"
        + BOUNDARY + b"\r\n"
        b"\tContent-Type: application/octet-stream\r\n"
        + struct.pack("<I", len(sig)) + sig + sealed + BOUNDARY + b"--\r\n"
    )


# --- the fake shell


class Shells:
    def __init__(self):
        self.lock = threading.Lock()
        self.shells = {}

    def handle(self, envelope):
        root = ET.fromstring(envelope)
        header = root.find("s:Header", NS)
        action = header.find("a:Action", NS).text
        msg_id = header.find("a:MessageID", NS).text
        sel = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS)
        shell_id = sel.text if sel is not None else None
        body = root.find("s:Body", NS)
        op = action.rsplit("/", 1)[1]
        with self.lock:
            if op == "Create":
                shell_id = str(uuid.uuid4()).upper()
                self.shells[shell_id] = {}
                return op, 200, created(msg_id, shell_id)
            if shell_id not in self.shells:
                return op, 500, fault(msg_id, 2150858843, "The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server." % shell_id)
            commands = self.shells[shell_id]
            if op == "Command":
                cmd_id = str(uuid.uuid4()).upper()
                line = body.find("rsp:CommandLine/rsp:Command", NS).text or ""
                commands[cmd_id] = {"line": line, "stdin": b"", "eof": False}
                return op, 200, response(msg_id, SHELL + "/CommandResponse", "<rsp:CommandResponse><rsp:CommandId>%s</rsp:CommandId></rsp:CommandResponse>" % cmd_id)
            if op == "Send":
                stream = body.find("rsp:Send/rsp:Stream", NS)
                cmd = commands[stream.get("CommandId")]
                cmd["stdin"] += base64.b64decode(stream.text or "", validate=True)
                cmd["eof"] = stream.get("End", "").lower() == "true"
                return op, 200, response(msg_id, SHELL + "/SendResponse", "<rsp:SendResponse/>")
            if op == "Receive":
                cmd_id = body.find("rsp:Receive/rsp:DesiredStream", NS).get("CommandId")
                return op, 200, receive(msg_id, cmd_id, commands[cmd_id])
            if op == "Signal":
                return op, 200, response(msg_id, SHELL + "/SignalResponse", "<rsp:SignalResponse/>")
            if op == "Delete":
                del self.shells[shell_id]
                return op, 200, response(msg_id, "http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", "")
        return op, 500, fault(msg_id, 2150858817, "unsupported action " + action)


def response(relates_to, action, body):
    return (
        '<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
        'xmlns:w="%s" xmlns:rsp="%s" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
        "<s:Header><a:Action>%s</a:Action><a:MessageID>uuid:%s</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        "<a:RelatesTo>%s</a:RelatesTo></s:Header><s:Body>%s</s:Body></s:Envelope>"
        % (NS["s"], NS["a"], NS["w"], NS["rsp"], action, str(uuid.uuid4()).upper(), relates_to, body)
    ).encode()


def created(relates_to, shell_id):
    return response(
        relates_to,
        "http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse",
        "<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address><a:ReferenceParameters>"
        "<w:ResourceURI>%s/cmd</w:ResourceURI><w:SelectorSet><w:Selector Name=\"ShellId\">%s</w:Selector>"
        "</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"
        "<rsp:Shell><rsp:ShellId>%s</rsp:ShellId><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut></rsp:Shell>" % (SHELL, shell_id, shell_id),
    )


def receive(relates_to, cmd_id, cmd):
    line = cmd["line"].strip()
    stdout, stderr, code = b"", b"", 0
    if line.lower() == "hostname":
        stdout = b"SIMHOST\r\n"
    elif line.lower() == "echo-stdin":
        stdout = cmd["stdin"]
    else:
        stderr, code = ("'%s' is not recognized as an internal or external command,\r\n" % line).encode(), 1
    streams = ""
    for name, data in (("stdout", stdout), ("stderr", stderr)):
        if data:
            streams += '<rsp:Stream Name="%s" CommandId="%s">%s</rsp:Stream>' % (name, cmd_id, base64.b64encode(data).decode())
    streams += '<rsp:Stream Name="stdout" CommandId="%s" End="true"></rsp:Stream>' % cmd_id
    streams += '<rsp:Stream Name="stderr" CommandId="%s" End="true"></rsp:Stream>' % cmd_id
    state = '<rsp:CommandState CommandId="%s" State="%s/CommandState/Done"><rsp:ExitCode>%d</rsp:ExitCode></rsp:CommandState>' % (cmd_id, SHELL, code)
    return response(relates_to, SHELL + "/ReceiveResponse", "<rsp:ReceiveResponse>%s%s</rsp:ReceiveResponse>" % (streams, state))


def fault(relates_to, code, text):
    return response(
        relates_to,
        FAULT_ACTION,
        "<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text xml:lang=\"en-US\">%s</s:Text></s:Reason>"
        '<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="%d" Machine="127.0.0.1">'
        "<f:Message>%s</f:Message></f:WSManFault></s:Detail></s:Fault>" % (escape(text), code, escape(text)),
    )


# --- HTTP: one handler instance per TCP connection, so it holds the NTLM context


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    conn_ids = itertools.count(1)

    def setup(self):
        super().setup()
        self.conn = next(Handler.conn_ids)
        self.ctx = None
        self.authed = False
        self.protocol = SPNEGO_PROTOCOL
        self.requests = 0
        log("CONNECT conn=%d" % self.conn)

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type=None, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        auth = self.headers.get("Authorization")
        if auth:
            return self.negotiate(auth)
        if not self.authed:
            return self.reply(401, headers=self.challenge())
        if self.server.tls:  # TLS protects the messages: no sealing, as Windows over HTTPS
            op, status, resp = self.server.shells.handle(body)
            self.requests += 1
            log("REQUEST conn=%d op=%s status=%d in=%d tls" % (self.conn, op, status, len(body)))
            return self.reply(status, resp, "application/soap+xml;charset=UTF-8")
        if "multipart/encrypted" not in self.headers.get("Content-Type", ""):
            log("UNSEALED conn=%d refused" % self.conn)
            return self.reply(401, headers=self.challenge())
        try:
            length, sig, sealed = unframe(body, self.protocol)
            plain = self.ctx.unwrap(sig + sealed).message
            if len(plain) != length:
                raise ValueError("unsealed length %d, announced %d" % (len(plain), length))
        except (ValueError, gssapi.exceptions.GSSError) as e:
            log("BADSEAL conn=%d %s" % (self.conn, e))
            return self.reply(400)
        op, status, resp = self.server.shells.handle(plain)
        self.requests += 1
        log("REQUEST conn=%d op=%s status=%d in=%d" % (self.conn, op, status, length))
        label = SPNEGO_PROTOCOL if self.server.reply_spnego else self.protocol
        self.reply(status, frame(*self.seal(resp), label), content_type(label))
        drop = self.server.drop_after
        if drop and self.requests % drop == 0:
            self.close_connection = True  # no Connection: close header: a silent drop
            log("DROP conn=%d" % self.conn)

    def challenge(self):
        if self.server.mech == "kerberos" and not self.server.negotiate_only:
            return [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "Kerberos")]
        return [("WWW-Authenticate", "Negotiate")]

    def seal(self, resp):
        """Return (header, sealed) for one reply, sealed by MIT or gss-ntlmssp."""
        if self.server.mech == "kerberos":
            # As Windows: gss_wrap_iov with header | data | padding, so the
            # data part keeps the plaintext's length (RRC rotates the trailer).
            iov = gssapi.raw.IOV(gssapi.raw.IOVBufferType.header, resp, gssapi.raw.IOVBufferType.padding, std_layout=False)
            res = gssapi.raw.wrap_iov(self.ctx, iov, confidential=True)
            if not res or iov[2].value:
                raise RuntimeError("gss wrap_iov did not encrypt or left padding")
            return iov[0].value, iov[1].value
        wrapped = self.ctx.wrap(resp, True)
        if not wrapped.encrypted:
            raise RuntimeError("gss wrap did not encrypt")
        return wrapped.message[:16], wrapped.message[16:]

    def negotiate(self, auth):
        if self.server.mech == "kerberos":
            return self.kerberos(auth)
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "negotiate":
            return self.reply(401, headers=[("WWW-Authenticate", "Negotiate")])
        token = base64.b64decode(token)
        msg_type = struct.unpack("<I", token[8:12])[0] if len(token) >= 12 else 0
        try:
            if msg_type == 1:
                self.ctx = gssapi.SecurityContext(usage="accept", creds=self.server.creds)
                out = self.ctx.step(token)
                return self.reply(401, headers=[("WWW-Authenticate", "Negotiate " + base64.b64encode(out).decode())])
            if msg_type == 3 and self.ctx is not None:
                self.ctx.step(token)
                if self.ctx.complete:
                    self.authed = True
                    log("HANDSHAKE conn=%d user=%s" % (self.conn, self.ctx.initiator_name))
                    return self.reply(200)
        except gssapi.exceptions.GSSError as e:
            log("AUTHFAIL conn=%d %s" % (self.conn, e.gen_message().splitlines()[0] if hasattr(e, "gen_message") else e))
        self.ctx, self.authed = None, False
        self.reply(401, headers=[("WWW-Authenticate", "Negotiate")])


    def kerberos(self, auth):
        scheme, _, token = auth.partition(" ")
        allowed = ("negotiate",) if self.server.negotiate_only else ("negotiate", "kerberos")
        if scheme.lower() not in allowed:
            log("SCHEME conn=%d %s refused" % (self.conn, scheme))
            return self.reply(401, headers=self.challenge())
        try:
            cb = None
            if self.server.cb_app:
                cb = gssapi.raw.ChannelBindings(application_data=self.server.cb_app)
            self.ctx = gssapi.SecurityContext(usage="accept", creds=self.server.creds, channel_bindings=cb)
            out = self.ctx.step(base64.b64decode(token))
            if self.ctx.complete:
                self.authed = True
                self.protocol = KERBEROS_PROTOCOL if scheme.lower() == "kerberos" else SPNEGO_PROTOCOL
                log("HANDSHAKE conn=%d user=%s scheme=%s mutual=%s" % (self.conn, self.ctx.initiator_name, scheme, bool(self.ctx.actual_flags & gssapi.RequirementFlag.mutual_authentication)))
                hdr = [("WWW-Authenticate", "%s %s" % (scheme, base64.b64encode(out).decode()))] if out else []
                return self.reply(200, headers=hdr)
        except gssapi.exceptions.GSSError as e:
            log("AUTHFAIL conn=%d %s" % (self.conn, str(e).splitlines()[0]))
            token = getattr(e, "token", None)
            if token:
                return self.reply(401, headers=[("WWW-Authenticate", "%s %s" % (scheme, base64.b64encode(token).decode()))])
        self.ctx, self.authed = None, False
        self.reply(401, headers=self.challenge())


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mech", choices=("ntlm", "kerberos"), default="ntlm")
    p.add_argument("--check", action="store_true")
    p.add_argument("--cb-data", default="")
    p.add_argument("--reply-spnego", action="store_true")
    p.add_argument("--negotiate-only", action="store_true")
    p.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--drop-after", type=int, default=0)
    args = p.parse_args()
    need = "KRB5_KTNAME" if args.mech == "kerberos" else "NTLM_USER_FILE"
    if not os.environ.get(need):
        sys.exit(need + " is not set")
    try:
        creds = acceptor_creds(args.mech)
    except gssapi.exceptions.GSSError as e:
        sys.exit("no %s acceptor (gss-ntlmssp or a keytab): %s" % (args.mech, e))
    if args.check:
        return
    srv = Server(("127.0.0.1", 0), Handler)
    srv.creds, srv.shells, srv.drop_after, srv.mech = creds, Shells(), args.drop_after, args.mech
    srv.reply_spnego, srv.negotiate_only = args.reply_spnego, args.negotiate_only
    srv.tls = bool(args.tls)
    srv.cb_app = args.cb_data.encode()  # --cb-data wins, so a test can require wrong bindings
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        with open(args.tls[0]) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        if not srv.cb_app:  # RFC 5929: the prefix, then the certificate hash itself
            srv.cb_app = b"tls-server-end-point:" + hashlib.sha256(der).digest()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    print("PORT %d" % srv.server_address[1], flush=True)
    sys.stdin.read()  # the test closes stdin to stop us
    srv.shutdown()


if __name__ == "__main__":
    main()
