"""A real SAML 2.0 identity provider for the tests: pysaml2's own IdP
(``saml2.server.Server``) with its own configuration and keys made here with
``cryptography``, signing with xmlsec1 like a production IdP.

``SamlWorld(tmp_path)`` writes the IdP's and the SP's keys and metadata files
and gives the Django settings that point the app at this IdP; ``idp_answer``
reads the app's AuthnRequest (checking its signature) and builds the signed
Response the browser would POST back.
"""

import base64
import datetime
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import saml2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import verify_redirect_signature

XMLSEC = shutil.which("xmlsec1")
IDP_ENTITY_ID = "https://idp.test.example/idp"
IDP_SSO_URL = "https://idp.test.example/sso"
SP_ENTITY_ID = "https://bostadforst.test.example/saml2/metadata/"
SP_BASE_URL = "http://testserver"
ACS_URL = SP_BASE_URL + "/saml2/acs/"
SMARTCARD = "urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard"


def make_keypair(directory: Path, name: str) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = directory / f"{name}.key", directory / f"{name}.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def cert_body(cert_path: Path) -> str:
    lines = cert_path.read_text().strip().splitlines()
    return "".join(line for line in lines if "CERTIFICATE" not in line)


class SamlWorld:
    def __init__(self, directory: Path, *, lifetime_minutes: int = 5):
        self.dir = directory
        self.sp_key, self.sp_cert = make_keypair(directory, "sp")
        self.idp_key, self.idp_cert = make_keypair(directory, "idp")
        self.idp_metadata = directory / "idp_metadata.xml"
        self.sp_metadata = directory / "sp_metadata.xml"
        self.lifetime_minutes = lifetime_minutes
        self.idp_metadata.write_text(
            create_metadata_string(
                None, config=self._idp_config(with_sp=False), valid=None
            ).decode()
        )

    def settings(self, **extra) -> dict:
        values = {
            "SAML_ENABLED": True,
            "SAML_IDP_METADATA_FILE": str(self.idp_metadata),
            "SAML_IDP_METADATA_URL": "",
            "SAML_SP_ENTITY_ID": SP_ENTITY_ID,
            "SAML_SP_KEY_FILE": str(self.sp_key),
            "SAML_SP_CERT_FILE": str(self.sp_cert),
            "SAML_SP_BASE_URL": SP_BASE_URL,
            "SAML_CLOCK_SKEW": 60,
            "SAML_ROLE_ATTRIBUTE": "groups",
            "SAML_ROLE_MAP": {
                "bf-socialsekreterare": "social_worker",
                "bf-boendestod": "support_staff",
                "bf-enhetschef": "unit_manager",
            },
            "SAML_USERNAME_ATTRIBUTE": "",
            "SAML_REQUIRED_AUTHN_CONTEXT": [],
        }
        values.update(extra)
        return values

    def _idp_config(self, *, with_sp: bool) -> IdPConfig:
        conf = {
            "entityid": IDP_ENTITY_ID,
            "xmlsec_binary": XMLSEC,
            "key_file": str(self.idp_key),
            "cert_file": str(self.idp_cert),
            "service": {
                "idp": {
                    "name": "Test IdP",
                    "endpoints": {
                        "single_sign_on_service": [
                            (IDP_SSO_URL, saml2.BINDING_HTTP_REDIRECT),
                            (IDP_SSO_URL, saml2.BINDING_HTTP_POST),
                        ]
                    },
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": self.lifetime_minutes},
                            "attribute_restrictions": None,
                            "name_form": saml2.saml.NAME_FORMAT_URI,
                        }
                    },
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "want_authn_requests_signed": True,
                }
            },
        }
        if with_sp:
            conf["metadata"] = {"local": [str(self.sp_metadata)]}
        config = IdPConfig()
        config.load(conf)
        return config

    def server(self) -> Server:
        """The IdP, knowing the SP from the metadata the app serves."""
        return Server(config=self._idp_config(with_sp=True))

    def read_request(self, location: str) -> tuple[Server, object, dict]:
        """The IdP's reading of the redirect to it: (server, AuthnRequest, query).
        Raises unless the query carries a valid signature by the SP's key."""
        server = self.server()
        query = {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}
        assert query.get("Signature") and query.get("SigAlg"), "AuthnRequest is not signed"
        assert verify_redirect_signature(
            query, server.sec.sec_backend, cert=cert_body(self.sp_cert)
        ), "AuthnRequest signature does not verify"
        # The IdP (want_authn_requests_signed) checks it again with the SP's metadata.
        request = server.parse_authn_request(
            query["SAMLRequest"],
            saml2.BINDING_HTTP_REDIRECT,
            relay_state=query.get("RelayState"),
            sigalg=query["SigAlg"],
            signature=query["Signature"],
        )
        return server, request.message, query

    def idp_answer(
        self,
        location: str,
        *,
        name_id: str,
        attributes: dict,
        audience: str = SP_ENTITY_ID,
        authn_class: str = SMARTCARD,
    ) -> dict:
        """The POST data (SAMLResponse, RelayState) the IdP sends to the ACS."""
        server, authn_request, query = self.read_request(location)
        response = server.create_authn_response(
            identity=attributes,
            in_response_to=authn_request.id,
            destination=authn_request.assertion_consumer_service_url or ACS_URL,
            sp_entity_id=audience,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id),
            userid=name_id,
            authn={
                "class_ref": authn_class,
                "authn_auth": IDP_ENTITY_ID,
            },
            sign_assertion=True,
            sign_response=False,
        )
        return {
            "SAMLResponse": base64.b64encode(str(response).encode()).decode(),
            "RelayState": query.get("RelayState", "/"),
        }
