from .navigation import items_for


def partnership(request) -> dict:
    current = getattr(request, "partnership", None)
    membership = getattr(request, "membership", None)
    if current is None or membership is None:
        return {}
    return {
        "partnership": current,
        "membership": membership,
        "partnership_nav": items_for(request, membership),
    }
