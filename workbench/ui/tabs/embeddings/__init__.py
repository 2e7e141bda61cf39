"""The embeddings tab."""
