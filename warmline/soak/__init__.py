"""`python -m warmline soak`: the deployed topology through a shift full of faults."""
