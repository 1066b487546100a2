"""The DI 40502.001 calcs register in the one policy registry (:mod:`cdrflow.policy.registry`)."""

from __future__ import annotations

from cdrflow.policy.registry import REGISTRY

__all__ = ["REGISTRY"]
