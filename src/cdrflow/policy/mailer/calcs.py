"""Import every DI 40502.001 calc module so the registry is complete."""

from __future__ import annotations

from . import codes, decision_logic, diary, dircon, earnings, jurisdiction, profile, review, schedule
from .registry import REGISTRY

__all__ = ["REGISTRY", "codes", "decision_logic", "diary", "dircon", "earnings", "jurisdiction", "profile", "review",
           "schedule"]
