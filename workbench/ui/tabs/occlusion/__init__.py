"""The occlusion tab."""
