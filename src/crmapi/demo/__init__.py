"""`crmapi demo-data`: a realistic organisation to try the API on (`data.load`)."""
