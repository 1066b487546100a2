"""Pure policy: functions and decision tables, effective-dated, each citing its passage."""
