"""Every effect rxgen performs lives in a driver here."""
