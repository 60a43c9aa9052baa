"""Who a request acts as, once its signature (or console session) checked out."""

from dataclasses import dataclass

from roles.models import Account, ApiKey, SubUser


@dataclass(frozen=True)
class Principal:
    """An account acting through one of its API keys, or through a console session (`user` set, no key).

    The account's root (no sub-user) may do anything with the account's resources; a sub-user what its CAM
    policies allow.
    """

    account: Account
    api_key: ApiKey | None = None
    user: SubUser | None = None

    @property
    def appid(self) -> str:
        return self.account.appid

    @property
    def sub_user(self) -> SubUser | None:
        if self.user is not None:
            return self.user
        return self.api_key.user if self.api_key is not None else None

    @property
    def actor(self) -> str:
        """How the audit trail names this caller: the SecretId used, or the console user."""
        if self.api_key is not None:
            return self.api_key.secret_id
        return f"console:{self.user.name}" if self.user is not None else f"console:{self.account.appid}"
