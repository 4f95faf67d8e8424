"""Signal processing every stage may use: scipy's filters, designed once and run without scipy.signal's import."""
