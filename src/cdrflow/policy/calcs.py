"""Import every calc module so the registry is complete: the CDR mailer, EXR and M/PR."""

from __future__ import annotations

from .exr import determination
from .mailer import calcs as mailer_calcs
from .mpr import eligibility as mpr_eligibility
from .registry import REGISTRY

__all__ = ["REGISTRY", "determination", "mailer_calcs", "mpr_eligibility"]
