from ..dbfixtures import store

__all__ = ["store"]
