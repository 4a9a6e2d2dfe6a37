"""Users, passwords, session tokens and device API keys.

Passwords are hashed with scrypt (RFC 7914; n=2**14, r=8, p=1) and a random salt.  Session
tokens are signed with the secret key (itsdangerous) and expire; API keys are random, shown once,
and stored as SHA-256 hashes looked up by their prefix.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from lingtan.domain import UserRole
from lingtan.errors import AuthenticationError, ConflictError, NotFoundError, ValidationError
from lingtan.services.principal import Principal, require_admin, require_manager
from lingtan.store.models import ApiKey, ApiKeyMeter, Enterprise, Meter, Park, User

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str) -> str:
    """Return ``scrypt$salt$hash`` for a password."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Check a password against a stored ``scrypt$salt$hash``."""
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt_hex), n=_N, r=_R, p=_P)
    return hmac.compare_digest(digest.hex(), digest_hex)


def principal_of(user: User) -> Principal:
    """Return the principal a user acts as."""
    return Principal(
        role=UserRole(user.role),
        user_id=user.id,
        username=user.username,
        park_id=user.park_id,
        enterprise_id=user.enterprise_id,
    )


def authenticate(session: Session, username: str, password: str) -> User:
    """Return the active user with these credentials.

    Raises
    ------
    AuthenticationError
        With one message for unknown user and wrong password alike.
    """
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        raise AuthenticationError("wrong user name or password")
    return user


def issue_token(user: User, secret: str) -> str:
    """Return a signed session token for the user."""
    return URLSafeTimedSerializer(secret, salt="lingtan-session").dumps({"uid": user.id})


def user_from_token(session: Session, token: str, secret: str, max_age_s: float) -> User:
    """Return the user a valid, unexpired token names."""
    try:
        data = URLSafeTimedSerializer(secret, salt="lingtan-session").loads(
            token, max_age=int(max_age_s)
        )
    except SignatureExpired as exc:
        raise AuthenticationError("session expired, log in again") from exc
    except BadSignature as exc:
        raise AuthenticationError("invalid session token") from exc
    user = session.get(User, int(data["uid"]))
    if user is None or not user.active:
        raise AuthenticationError("the account of this session no longer exists")
    return user


@dataclass(frozen=True)
class NewUser:
    """What is needed to create a user."""

    username: str
    password: str
    role: UserRole
    park_code: str | None = None
    enterprise_code: str | None = None
    display_name: str = ""


# What each role is attached to: (needs a park, needs an enterprise); the other is refused.
ROLE_SCOPE: dict[UserRole, tuple[bool, bool]] = {
    UserRole.ADMIN: (False, False),
    UserRole.PARK_MANAGER: (True, False),
    UserRole.VERIFIER: (True, False),
    UserRole.ENTERPRISE_USER: (True, True),
}


def _check_role_scope(spec: NewUser) -> None:
    """Refuse a park or enterprise the role does not take, or a missing one it needs."""
    needs_park, needs_enterprise = ROLE_SCOPE[spec.role]
    role = f"user {spec.username!r}: role {spec.role.value}"
    if not needs_park and spec.park_code:
        raise ValidationError(f"{role} sees every park: give no park (got {spec.park_code!r})")
    if not needs_enterprise and spec.enterprise_code:
        raise ValidationError(
            f"{role} covers a whole park: give no enterprise (got {spec.enterprise_code!r}); "
            "an enterprise's own account has role enterprise_user"
        )
    if needs_park and not spec.park_code:
        raise ValidationError(f"{role} needs a park")
    if needs_enterprise and not spec.enterprise_code:
        raise ValidationError(f"{role} needs an enterprise of its park")


def _resolve_scope(session: Session, spec: NewUser) -> tuple[int | None, int | None]:
    _check_role_scope(spec)
    park_id = enterprise_id = None
    if spec.park_code:
        park = session.scalar(select(Park).where(Park.code == spec.park_code))
        if park is None:
            raise NotFoundError(f"park {spec.park_code!r} does not exist")
        park_id = park.id
    if spec.enterprise_code:
        ent = session.scalar(
            select(Enterprise).where(
                Enterprise.park_id == park_id, Enterprise.code == spec.enterprise_code
            )
        )
        if ent is None:
            raise NotFoundError(
                f"enterprise {spec.enterprise_code!r} is not in park {spec.park_code!r}"
            )
        enterprise_id = ent.id
    return park_id, enterprise_id


def create_user(session: Session, spec: NewUser, by: Principal | None = None) -> User:
    """Create a user; ``by=None`` is the local command line (the machine's operator).

    The role decides the scope (:data:`ROLE_SCOPE`): an admin has no park and no enterprise; a
    park manager and a verifier have a park and no enterprise; an enterprise user has a park
    and an enterprise of that park.  Anything else is refused, never stored and reinterpreted.
    A park manager may create users inside their own park, but not admins.
    """
    if len(spec.password) < 8:
        raise ValidationError("password: at least 8 characters")
    if spec.role == UserRole.DEVICE:
        raise ValidationError("devices write with API keys (lingtan user key), not user accounts")
    park_id, enterprise_id = _resolve_scope(session, spec)
    if by is not None:
        if spec.role == UserRole.ADMIN or not by.is_admin and park_id is None:
            require_admin(by)
        else:
            require_manager(by, park_id)
    if session.scalar(select(User.id).where(User.username == spec.username)) is not None:
        raise ConflictError(f"user name {spec.username!r} is taken")
    user = User(
        username=spec.username,
        password_hash=hash_password(spec.password),
        role=spec.role.value,
        park_id=park_id,
        enterprise_id=enterprise_id,
        display_name=spec.display_name,
    )
    session.add(user)
    session.flush()
    return user


def create_api_key(
    session: Session,
    name: str,
    enterprise: Enterprise,
    meter_codes: list[str],
    by: Principal | None = None,
) -> tuple[ApiKey, str]:
    """Create a device key allowed to write the named meters of one enterprise.

    Returns the key row and the secret (shown once; only its hash is stored).
    """
    if by is not None:
        require_manager(by, enterprise.park_id)
    meters = session.scalars(
        select(Meter).where(Meter.enterprise_id == enterprise.id, Meter.code.in_(meter_codes))
    ).all()
    missing = sorted(set(meter_codes) - {m.code for m in meters})
    if missing:
        raise NotFoundError(
            f"meters {', '.join(missing)} are not meters of enterprise {enterprise.code!r}"
        )
    prefix = secrets.token_hex(6)
    secret = f"lt_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        name=name,
        prefix=prefix,
        key_hash=hashlib.sha256(secret.encode()).hexdigest(),
        park_id=enterprise.park_id,
        enterprise_id=enterprise.id,
    )
    session.add(key)
    session.flush()
    session.add_all([ApiKeyMeter(api_key_id=key.id, meter_id=m.id) for m in meters])
    return key, secret


def principal_from_api_key(session: Session, secret: str) -> Principal:
    """Return the device principal of an API key secret."""
    parts = secret.split("_")
    if len(parts) < 3 or parts[0] != "lt":
        raise AuthenticationError("malformed API key")
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == parts[1], ApiKey.active.is_(True)))
    digest = hashlib.sha256(secret.encode()).hexdigest()
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        raise AuthenticationError("unknown API key")
    meter_ids = session.scalars(
        select(ApiKeyMeter.meter_id).where(ApiKeyMeter.api_key_id == key.id)
    ).all()
    return Principal(
        role=UserRole.DEVICE,
        username=f"key:{key.name}",
        park_id=key.park_id,
        enterprise_id=key.enterprise_id,
        meter_ids=frozenset(meter_ids),
    )


def list_users(session: Session, p: Principal) -> list[User]:
    """Return the users the caller may see: all (admin), the park's (manager), else only itself."""
    stmt = select(User).order_by(User.id)
    if p.role == UserRole.ADMIN:
        return list(session.scalars(stmt))
    if p.role == UserRole.PARK_MANAGER:
        return list(session.scalars(stmt.where(User.park_id == p.park_id)))
    return list(session.scalars(stmt.where(User.id == p.user_id)))
