from .models import TIERS


class TierConverter:
    """A lesson depth in a URL; any other word is a 404 from the resolver."""

    regex = "|".join(TIERS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        if value not in TIERS:
            raise ValueError(value)
        return value
