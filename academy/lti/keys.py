"""The tool's own RSA key pair, one per platform registration.

The private key signs the client-credentials assertion for AGS access tokens (IMS Security Framework 1.0
§4.1); the public key is published as a JWK Set that the platform fetches. The key id is the RFC 7638
thumbprint, so it is stable and never depends on database ids.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

KEY_BITS = 2048


@dataclass(frozen=True)
class KeyPair:
    kid: str
    private_pem: str
    public_pem: str

    def __repr__(self) -> str:  # the private key never reaches a log line or a traceback's locals
        return f"KeyPair(kid={self.kid!r})"


def generate() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return KeyPair(kid=JWK.from_pem(public_pem.encode()).thumbprint(), private_pem=private_pem, public_pem=public_pem)


def public_jwk(public_pem: str, kid: str) -> dict:
    """The public key as a JWK for RS256 signatures (RFC 7517), never the private parts."""
    jwk = json.loads(JWK.from_pem(public_pem.encode()).export_public())
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}
