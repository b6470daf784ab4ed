"""pylti1p3 wired to the database: the tool configuration (registrations and deployments as rows), the
OIDC login and the message launch with state and nonce kept in `storage`, and HTTP with timeouts.

pylti1p3 does the protocol (building the authentication request, fetching the platform's key set, checking
the id_token's signature and LTI claims, the AGS client-credentials grant); the subclasses below change only
where state lives and make a few checks stricter than the library's defaults, each citing the spec.
"""
from __future__ import annotations

import jwt
import requests
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskOIDCLogin, FlaskRequest
from pylti1p3.cookie import CookieService
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy import select
from sqlalchemy.orm import Session

from academy.lti import keys
from academy.lti.storage import DatabaseLaunchData
from academy.models import LtiRegistration

HTTP_TIMEOUT = 10  # seconds for every call to a platform: a slow LMS must not hold a worker for long
CLOCK_SKEW = 60  # seconds of leeway on exp/iat between the platform's clock and ours
# IMS Security Framework §5.1.3 / §6.1: platforms sign with RSA (RS256 required); asymmetric algorithms only.
SIGNATURE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")


class TimeoutSession(requests.Session):
    """pylti1p3 calls requests without a timeout; this session gives every call one."""

    def __init__(self, timeout: float = HTTP_TIMEOUT):
        super().__init__()
        self.timeout = timeout
        self.headers["User-Agent"] = "PACS-Academy-LTI (pylti1p3)"

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("allow_redirects", False)
        return super().request(method, url, **kwargs)


class ToolRegistration(Registration):
    """A registration row as pylti1p3 expects it, with the key id the tool publishes (pylti1p3 would
    otherwise sign without a `kid`, and platforms pick the verification key by it)."""

    def __init__(self, row: LtiRegistration):
        self.row = row
        (self.set_issuer(row.issuer).set_client_id(row.client_id).set_auth_login_url(row.auth_login_url)
         .set_auth_token_url(row.access_token_url).set_key_set_url(row.key_set_url)
         .set_tool_private_key(row.tool_private_key).set_tool_public_key(row.tool_public_key))

    def get_kid(self):
        return self.row.tool_key_id

    def get_jwks(self):
        return [keys.public_jwk(self.row.tool_public_key, self.row.tool_key_id)]

    def __repr__(self) -> str:
        return f"ToolRegistration({self.row.id})"


class DatabaseToolConf(ToolConfAbstract):
    """Registrations are found by (issuer, client_id) (LTI Core 1.3 §3.1.3); an issuer may have several."""

    def __init__(self, session: Session):
        super().__init__()
        self.session = session
        self.issuers_relation_types = {}  # the library keeps this on the class; never share it

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def row(self, iss: str, client_id: str | None) -> LtiRegistration | None:
        query = select(LtiRegistration).where(LtiRegistration.issuer == iss)
        if client_id:
            return self.session.scalar(query.where(LtiRegistration.client_id == client_id))
        # LTI Core 1.3 §4.1: client_id is optional in a login initiation; then the issuer must be unambiguous.
        rows = self.session.scalars(query.limit(2)).all()
        return rows[0] if len(rows) == 1 else None

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        return self.find_registration_by_params(iss, None)

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        row = self.row(iss, client_id)
        return ToolRegistration(row) if row is not None else None

    def find_deployment(self, iss, deployment_id):
        return self.find_deployment_by_params(iss, deployment_id, None)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        row = self.row(iss, client_id)
        if row is None or deployment_id not in (row.deployment_ids or []):
            return None
        return Deployment().set_deployment_id(deployment_id)


class NoCookies(CookieService):
    """State lives in the database (see storage.py); pylti1p3's own state cookie is not set at all."""

    def get_cookie(self, name):
        return None

    def set_cookie(self, name, value, exp=3600):
        return None

    def update_response(self, response):
        return response


class Login(FlaskOIDCLogin):
    """OIDC login initiation (LTI Core 1.3 §5.1.1, IMS Security Framework §5.1.1). The nonce is bound to
    the state: both go into the state's row, so a launch must bring back this state and this nonce."""

    def __init__(self, session: Session, storage: DatabaseLaunchData):
        super().__init__(FlaskRequest(), DatabaseToolConf(session), cookie_service=NoCookies(),
                         launch_data_storage=storage)

    def _generate_nonce(self) -> str:
        nonce = super()._generate_nonce()
        # pylti1p3 calls this after finding the registration and saves the state's params right after.
        self.pass_params_to_launch({"registration_id": self._registration.row.id, "nonce": nonce})
        return nonce


class Launch(FlaskMessageLaunch):
    """The id_token launch (LTI Core 1.3 §5.1.2 and §5.3). pylti1p3's checks run in its order; state and
    nonce are taken from the database once, and the JWT checks are the full OIDC ones."""

    def __init__(self, session: Session, storage: DatabaseLaunchData, http: requests.Session):
        super().__init__(FlaskRequest(), DatabaseToolConf(session), cookie_service=NoCookies(),
                         launch_data_storage=storage, requests_session=http)
        self.storage = storage
        self.login_params: dict = {}

    def validate_state(self):
        state = self._get_request_param("state")
        if not state:
            raise LtiException("Missing state param")
        # IMS Security Framework §5.1.1.5: the state must be one this tool issued, and only once.
        params = self.storage.take(self._session_service._get_key(state))
        if not params:
            raise LtiException("State not found: it is unknown, expired or was already used")
        self.login_params = params
        return self

    def validate_nonce(self):
        nonce = self._get_jwt_body().get("nonce")
        # OIDC Core §3.1.3.7 step 11 / LTI Core 1.3 §5.1.2: the nonce of the login this state began.
        if not nonce or nonce != self.login_params.get("nonce"):
            raise LtiException("Invalid Nonce")
        if self.storage.take(self._session_service._get_key("nonce", nonce)) is None:
            raise LtiException("Invalid Nonce: already used")
        return self

    def validate_registration(self):
        super().validate_registration()
        if self._registration.row.id != self.login_params.get("registration_id"):
            raise LtiException("The launch comes from another registration than its login")
        return self

    def validate_jwt_signature(self):
        named = str(self._jwt.get("header", {}).get("alg"))
        if named not in SIGNATURE_ALGORITHMS:  # never a symmetric or "none" algorithm named by the token itself
            raise LtiException(f"The id_token's algorithm {named[:20]} is not accepted")
        try:
            public_key, alg = self.get_public_key()
        except LtiException:
            raise
        except Exception as exc:  # noqa: BLE001 - a platform key jwcrypto cannot use (wrong type, bad numbers)
            raise LtiException(f"The platform's key for this id_token cannot be used ({exc.__class__.__name__})") from exc
        client_id = self._registration.get_client_id()
        try:
            # IMS Security Framework §5.1.3: signature, iss, aud contains our client_id, exp and iat.
            claims = jwt.decode(self._get_id_token(), public_key, algorithms=[alg], audience=client_id,
                                issuer=self._registration.get_issuer(), leeway=CLOCK_SKEW,
                                options={"require": ["exp", "iat", "sub", "aud", "iss"]})
        except jwt.InvalidTokenError as exc:
            raise LtiException(f"Can't decode id_token: {exc}") from exc
        # §5.1.3 step 5: with several audiences, azp names us.
        if isinstance(claims.get("aud"), list) and len(claims["aud"]) > 1 and claims.get("azp") != client_id:
            raise LtiException("The id_token's azp is not this tool")
        return self

    def save_launch_data(self):
        # The state is already taken; what the site keeps of a launch is the LtiLaunch row, so the whole
        # id_token body is not stored a second time.
        return self

    def registration_row(self) -> LtiRegistration:
        return self._registration.row
