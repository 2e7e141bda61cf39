"""The adversarial tab."""
