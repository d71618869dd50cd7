"""The shared kernel, below every app: it imports from none of them."""
