"""Who a request acts as, once its signature checked out."""

from dataclasses import dataclass

from roles.models import Account, ApiKey


@dataclass(frozen=True)
class Principal:
    account: Account
    api_key: ApiKey

    @property
    def appid(self) -> str:
        return self.account.appid
