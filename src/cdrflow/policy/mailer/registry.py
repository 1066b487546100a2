"""The registry of DI 40502.001 calcs (``cdrflow calc --list``)."""

from __future__ import annotations

from cdrflow.engine.calc import Registry

REGISTRY = Registry()
