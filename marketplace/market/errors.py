"""Typed errors of the query market; their messages are written for the buyer and never carry provider data."""


class MarketError(ValueError):
    """Base class: the request cannot be served as asked (400 unless a subclass says otherwise)."""


class InvalidPriceModel(MarketError):
    pass


class InvalidAsk(MarketError):
    pass


class NotAllowed(MarketError):
    pass


class NotReady(MarketError):
    """The job has no open quote yet, or it has not been bought yet."""


class QuoteExpired(MarketError):
    pass


class PaymentRequired(MarketError):
    pass


class BudgetExceeded(MarketError):
    pass


class TooManyQuotes(MarketError):
    pass
