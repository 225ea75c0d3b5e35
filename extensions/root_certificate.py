"""The mesh's pinned root: PEM text holding one or more self-signed CA certificates, and nothing else.

Runs inside copier's own environment (no `cryptography` there), so it reads just enough DER to tell a root CA
certificate from everything else: the certificate's issuer equals its subject, and its basicConstraints
extension says cA: TRUE. A private key, a CSR or an intermediate is refused with the reason.
"""

from __future__ import annotations

import base64
import binascii
import re

PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----")
BASIC_CONSTRAINTS = bytes.fromhex("0603551d13")  # OID 2.5.29.19, DER-encoded
MAX_ROOTS = 4


class DerError(ValueError):
    """The bytes are not the DER encoding of an X.509 certificate."""


def _element(data: bytes, offset: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at `offset`."""
    if offset + 2 > len(data):
        raise DerError("truncated")
    tag, length = data[offset], data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or start + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    if start + length > len(data):
        raise DerError("truncated")
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, element start, content start, content end) of each element inside [start, end)."""
    found = []
    while start < end:
        tag, content, stop = _element(data, start)
        found.append((tag, start, content, stop))
        start = stop
    return found


def certificate_facts(der: bytes) -> tuple[bool, bool]:
    """(self-signed: issuer == subject, CA: basicConstraints cA is TRUE) of a DER certificate."""
    tag, content, end = _element(der, 0)
    if tag != 0x30:
        raise DerError("not a SEQUENCE")
    parts = _children(der, content, end)
    if len(parts) != 3 or parts[0][0] != 0x30:
        raise DerError("not a certificate")
    tbs = _children(der, parts[0][2], parts[0][3])
    fields = tbs[1:] if tbs and tbs[0][0] == 0xA0 else tbs  # [0] version is optional
    if len(fields) < 6:
        raise DerError("not a certificate")
    issuer, subject = fields[2], fields[4]
    self_signed = der[issuer[1]:issuer[3]] == der[subject[1]:subject[3]]
    is_ca = False
    for tag, _, content, stop in fields[6:]:
        if tag != 0xA3:  # [3] extensions
            continue
        for _, _, ext_content, ext_stop in _children(der, *_children(der, content, stop)[0][2:4]):
            extension = _children(der, ext_content, ext_stop)
            if der[extension[0][1]:extension[0][3]] != BASIC_CONSTRAINTS:
                continue
            value = extension[-1]  # OCTET STRING holding BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, ... }
            inner = _children(der, value[2], value[3])[0]
            members = _children(der, inner[2], inner[3])
            is_ca = bool(members) and members[0][0] == 0x01 and der[members[0][2]:members[0][3]] != b"\x00"
    return self_signed, is_ca


def root_pem_problem(value: object, field: str = "mesh_root_ca_pem") -> str:
    """'' when `value` is PEM text of 1 to MAX_ROOTS self-signed CA certificates (a rotation lists the old and the
    new root), else the reason and the fix."""
    if not isinstance(value, str) or not value.strip():
        return f"{field}: paste the PEM of your root CA certificate (-----BEGIN CERTIFICATE----- ...)"
    if "PRIVATE KEY" in value:
        return (f"{field}: this holds a private key; never put one in an answer or in Git. Give only the root's "
                "certificate (`openssl x509 -in root.pem` prints it without the key)")
    blocks = list(PEM_BLOCK.finditer(value))
    leftover = PEM_BLOCK.sub("", value).strip()
    if not blocks or leftover:
        return f"{field}: only PEM certificate blocks may appear (found other text: {leftover[:40]!r}); paste the certificate as `openssl x509` prints it"
    if len(blocks) > MAX_ROOTS:
        return f"{field}: {len(blocks)} certificates; pin at most {MAX_ROOTS} roots (the current one, and the next during a rotation)"
    for number, block in enumerate(blocks, 1):
        where = f"{field}: certificate {number}"
        if block[1] != "CERTIFICATE":
            return f"{where} is a {block[1]}, not a CERTIFICATE; give the root CA's certificate"
        try:
            self_signed, is_ca = certificate_facts(base64.b64decode("".join(block[2].split()), validate=True))
        except (DerError, binascii.Error, IndexError):
            return f"{where} does not decode as an X.509 certificate; paste it again as `openssl x509` prints it"
        if not is_ca:
            return f"{where} is not a CA certificate (basicConstraints CA:TRUE missing); give the root CA's certificate"
        if not self_signed:
            return (f"{where} is not self-signed: it is an intermediate. Pin the root it chains to, so every "
                    "cluster's intermediate is trusted whatever its issuer writes to ca.crt")
    if len({"".join(b[2].split()) for b in blocks}) != len(blocks):
        return f"{field}: the same certificate is listed twice; list each root once"
    return ""


def pem_certificates(value: str) -> list[str]:
    """Each certificate block of `value` on its own, in the form written to Git: 64-character lines, each block
    ending in a newline (one meshConfig.caCertificates entry per root)."""
    bodies = ("".join(block[2].split()) for block in PEM_BLOCK.finditer(value or ""))
    return ["-----BEGIN CERTIFICATE-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
            + "\n-----END CERTIFICATE-----\n" for body in bodies]


def normalized_pem(value: str) -> str:
    """The certificates alone, one block after another: the form written to Git."""
    return "".join(pem_certificates(value))
