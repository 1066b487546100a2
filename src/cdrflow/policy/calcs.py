"""Import every calc module so the registry is complete: the CDR mailer and EXR."""

from __future__ import annotations

from .exr import determination
from .mailer import calcs as mailer_calcs
from .registry import REGISTRY

__all__ = ["REGISTRY", "determination", "mailer_calcs"]
