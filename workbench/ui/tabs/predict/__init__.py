"""The predict tab."""
