from __future__ import annotations

from collections.abc import Callable

from .roles import Perm

_ATTR = "accord_permission"


def requires(perm: Perm) -> Callable:
    """Declare the permission a partnership page needs; the middleware enforces it.

    Every view under /p/<slug>/ must carry one, or the middleware refuses to serve it.
    """

    def decorator(view: Callable) -> Callable:
        setattr(view, _ATTR, perm)
        return view

    return decorator


def required_permission(view: Callable) -> Perm | None:
    perm = getattr(view, _ATTR, None)
    if perm is None and hasattr(view, "view_class"):
        perm = getattr(view.view_class, _ATTR, None)
    return perm
