"""The video tab."""
