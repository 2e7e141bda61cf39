"""The attribution tab."""
