"""PM 00215.001: Medical and Professional Relations (M/PR), the DDS's CE oversight (D.4.c)."""
