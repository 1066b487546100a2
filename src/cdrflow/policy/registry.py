"""The one registry of policy calcs (``cdrflow calc --list``): DI 40502.001 and DI 28057.015.

Modules register their calcs on import; :mod:`cdrflow.policy.calcs` imports them all.
"""

from __future__ import annotations

from cdrflow.engine.calc import Registry

REGISTRY = Registry()
