"""DI 28057.015: expedited reinstatement (EXR) medical determinations, both versions by date."""
