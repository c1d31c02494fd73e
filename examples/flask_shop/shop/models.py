from authlib.integrations.flask_client import OAuth

oauth = OAuth()


class Customer:
    id: int
    password_hash: str

    @classmethod
    def by_email(cls, email: str) -> "Customer | None":
        raise NotImplementedError

    @classmethod
    def from_magic_link(cls, token: str) -> "Customer | None":
        raise NotImplementedError

    @classmethod
    def create(cls, email: str, password: str) -> "Customer":
        raise NotImplementedError
