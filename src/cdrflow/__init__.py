"""cdrflow: SSA CDR mailer, EXR and M/PR policy as executable, cited, effective-dated rules."""

__version__ = "0.1.0"
